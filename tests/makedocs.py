"""Real documents made for the tests: PDFs (fpdf2), web pages, Word files (python-docx).

The seed articles are rendered as a saved news page (navigation, a sidebar, a footer around
the article, subheadings as <h2>) and as an A5 PDF of several pages (a running header, page
numbers, a paragraph carried over each page break), so the converters meet what people keep.
"""
from __future__ import annotations

import html as _html
import io
import re
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def read_seed(name: str) -> tuple[str, str, list[str]]:
    """(date, title, blocks) of a seed .txt file."""
    raw = (SEEDS / name).read_text(encoding="utf-8")
    first, _, rest = raw.partition("\n")
    m = re.match(r"\s*date\s+(\S+)\s*(.*)", first)
    blocks = [b.strip() for b in re.split(r"\n\s*\n", rest) if b.strip()]
    return m.group(1), m.group(2).strip(), blocks


def _headline_like(block: str) -> bool:
    return "\n" not in block and len(block.split()) <= 30 and not re.search(r"[.!?:)][\"”’']?$", block)


def seed_html(name: str, outlet: str = "World Wire", encoding: str = "utf-8") -> bytes:
    """A seed article as a news page: nav, aside and footer around it; short unpunctuated
    blocks become <h2> subheadings; a copyright block goes to the footer."""
    date, title, blocks = read_seed(name)
    if title.startswith("Expand"):  # the Fox file's header is scraped UI text; its headline is a block
        title = next(b for b in blocks if _headline_like(b) and not b.startswith("©"))
    e = _html.escape
    body, footer = [], []
    for b in blocks:
        if b.startswith("©"):
            footer.append(f"<p>{e(b)}</p>")
        elif b == title:
            continue
        elif _headline_like(b):
            body.append(f"<h2>{e(b)}</h2>")
        else:
            body.append("<p>" + "<br>".join(e(line) for line in b.split("\n")) + "</p>")
    nav = "".join(f'<li><a href="/{w.lower()}">{w}</a></li>' for w in
                  ("Home", "World", "Politics", "Business", "Sport", "Opinion", "Video"))
    aside = "".join(f'<li><a href="/story/{i}">Related story number {i} you may have missed</a></li>'
                    for i in range(1, 6))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="{encoding}">
<title>{e(title)} | {e(outlet)}</title>
<meta property="og:site_name" content="{e(outlet)}">
<meta property="article:published_time" content="{date}T09:00:00Z">
</head><body>
<header><a href="/">{e(outlet)}</a><nav><ul>{nav}</ul></nav>
<form><input name="q" placeholder="Search"><button>Search</button></form></header>
<div class="ad">Advertisement</div>
<main><article>
<h1>{e(title)}</h1>
<p class="dateline"><time datetime="{date}">{date}</time></p>
{chr(10).join(body)}
</article>
<aside><h3>Most read</h3><ul>{aside}</ul></aside></main>
<footer>{''.join(footer)}<p><a href="/privacy">Privacy Policy</a> | <a href="/terms">Terms of Use</a>
| <a href="/contact">Contact us</a></p><p>Subscribe to our newsletter</p></footer>
</body></html>"""
    return page.encode(encoding, errors="xmlcharrefreplace")


def make_pdf(paragraphs: list[str], *, title: str | None = None, header=None,
             page_numbers: bool = True, date: str | None = None, author: str | None = None,
             fmt: tuple = (148, 210), size: float = 11, encrypt: str | None = None,
             meta_title: str | None = None) -> bytes:
    """A text PDF: a title in larger type, paragraphs wrapped and spaced apart, a running header
    and page numbers in the footer; `header` may be a function of the page number; `encrypt`
    sets a user password."""
    import datetime as dt

    from fpdf import FPDF

    class Doc(FPDF):
        def header(self):
            if header:
                self.set_font("Helvetica", size=8)
                self.cell(0, 6, header(self.page_no()) if callable(header) else header, align="C")
                self.ln(10)

        def footer(self):
            if page_numbers:
                self.set_y(-12)
                self.set_font("Helvetica", size=8)
                self.cell(0, 6, f"Page {self.page_no()}", align="C")

    pdf = Doc(format=fmt)
    pdf.core_fonts_encoding = "windows-1252"  # curly quotes, ©, non-breaking spaces
    pdf.set_auto_page_break(True, margin=18)
    if meta_title or title:
        pdf.set_title(meta_title or title)  # meta_title: a Title field other than the printed title
    if author:
        pdf.set_author(author)
    if date:
        pdf.set_creation_date(dt.datetime.fromisoformat(date).replace(tzinfo=dt.timezone.utc))
    if encrypt:
        pdf.set_encryption(owner_password="owner", user_password=encrypt)
    pdf.add_page()
    if title:
        pdf.set_font("Helvetica", "B", size=size + 5)
        pdf.multi_cell(0, (size + 5) * 0.45, title)
        pdf.ln(4)
    pdf.set_font("Helvetica", size=size)
    for p in paragraphs:
        pdf.multi_cell(0, size * 0.45, p)
        pdf.ln(size * 0.35)
    return bytes(pdf.output())


def seed_pdf(name: str) -> bytes:
    """A seed article as an A5 PDF of several pages (each line of a block its own paragraph,
    as a byline stands apart on paper)."""
    date, title, blocks = read_seed(name)
    if title.startswith("Expand"):
        title = next(b for b in blocks if _headline_like(b) and not b.startswith("©"))
    paras = [line.strip() for b in blocks if b != title for line in b.split("\n") if line.strip()]
    return make_pdf(paras, title=title, header="World Wire | Reports", date=date, size=10)


def image_only_pdf() -> bytes:
    """A 'scanned' page: one picture, no text layer."""
    from fpdf import FPDF
    from PIL import Image
    img = Image.new("RGB", (200, 100), "white")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(buf.getvalue()), x=10, y=10, w=100)
    return bytes(pdf.output())


def make_docx(items: list[tuple[str, object]], *, title: str | None = None, author: str | None = None) -> bytes:
    """A Word file from ("heading", text), ("p", text), ("table", [[cell, ...], ...]) items."""
    import docx
    d = docx.Document()
    for kind, value in items:
        if kind == "heading":
            d.add_heading(value, level=1)
        elif kind == "table":
            rows = value
            t = d.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    t.cell(r, c).text = cell
        else:
            d.add_paragraph(value)
    if title:
        d.core_properties.title = title
    if author:
        d.core_properties.author = author
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()
