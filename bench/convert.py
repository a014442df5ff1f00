"""Converter throughput (pages/s, MB/s) on files of realistic size, and PDF text quality of
pypdfium2 (what qa uses) against pypdf.

    python bench/convert.py [--repeat 3]

Files: the SQuAD v1.1 dev articles (../shared/eval, 19 articles, 829 paragraphs) typeset as
one A4 PDF (fpdf2: running header, page numbers; about 200 pages), as a Word file (a heading
per article, a table per article) and as 19 saved news pages padded with the scripts, styles
and link lists a real page carries (~150 KB each); plus any PDF manuals found under
/usr/share/doc. Text quality: the share of the typeset paragraphs found verbatim (white space
folded) in each library's plain page text, and in qa's rebuilt paragraphs. Needs the test
extra (fpdf2) and, for the comparison, pypdf (`pip install pypdf`).
"""
from __future__ import annotations

import argparse
import glob
import io
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
SQUAD = REPO.parent / "shared/eval/squad-v1.1/corpus"


def articles() -> list[tuple[str, list[str]]]:
    out = []
    for f in sorted(SQUAD.glob("*.txt")):
        raw = f.read_text(encoding="utf-8")
        first, _, rest = raw.partition("\n")
        title = first.removeprefix("title ").strip()
        paras = [" ".join(b.split()) for b in rest.split("\n\n") if b.strip()]
        # the PDF's core fonts are windows-1252: what they cannot show becomes "?" in the truth too
        paras = [p.encode("cp1252", errors="replace").decode("cp1252") for p in paras]
        out.append((title.encode("cp1252", errors="replace").decode("cp1252"), paras))
    return out


def squad_pdf(arts) -> bytes:
    from fpdf import FPDF

    class Doc(FPDF):
        def header(self):
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, "SQuAD v1.1 development articles", align="C")
            self.ln(10)

        def footer(self):
            self.set_y(-12)
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, f"Page {self.page_no()}", align="C")

    pdf = Doc(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    for title, paras in arts:
        pdf.set_font("Helvetica", "B", size=15)
        pdf.multi_cell(0, 7, title)
        pdf.ln(3)
        pdf.set_font("Helvetica", size=10.5)
        for p in paras:
            pdf.multi_cell(0, 4.8, p)
            pdf.ln(3)
    return bytes(pdf.output())


def squad_docx(arts) -> bytes:
    import docx
    d = docx.Document()
    for title, paras in arts:
        d.add_heading(title, level=1)
        for p in paras:
            d.add_paragraph(p)
        t = d.add_table(rows=4, cols=3)
        for r in range(4):
            for c in range(3):
                t.cell(r, c).text = f"{title} row {r} column {c}"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def news_page(title: str, paras: list[str]) -> bytes:
    import html
    e = html.escape
    script = "<script>" + "var x = {'k': 'v'};" * 3000 + "</script>"
    style = "<style>" + ".c { color: #333; margin: 0 auto; }" * 1500 + "</style>"
    links = "".join(f'<li><a href="/s/{i}">Related story {i} about something else</a></li>' for i in range(400))
    body = "".join(f"<p>{e(p)}</p>" for p in paras[:40])
    return (f"<html><head><meta charset='utf-8'><title>{e(title)} | Example</title>{style}{script}</head>"
            f"<body><nav><ul>{links[:20000]}</ul></nav><article><h1>{e(title)}</h1>{body}</article>"
            f"<aside><ul>{links}</ul></aside><footer>© 2024 Example. All rights reserved.</footer></body></html>"
            ).encode("utf-8")


def timed(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def norm(s: str) -> str:
    return " ".join(s.replace("\u00ad", "").replace("\ufffe", "").split())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs")
    args = ap.parse_args()
    import pypdfium2 as pdfium

    from qa.convert_docx import convert as convert_docx
    from qa.convert_html import convert as convert_html
    from qa.convert_pdf import convert as convert_pdf

    arts = articles()
    truth = [p for _, ps in arts for p in ps]
    pdf = squad_pdf(arts)
    pdfs = [("SQuAD dev, typeset", pdf)] + [(Path(f).name, Path(f).read_bytes())
                                            for f in sorted(glob.glob("/usr/share/doc/**/*.pdf", recursive=True))[:3]]
    rows = []

    def pdfium_text(data):
        d = pdfium.PdfDocument(data)
        out = []
        for i in range(len(d)):
            tp = d[i].get_textpage()
            out.append(tp.get_text_range())
            tp.close()
        d.close()
        return out

    try:
        import pypdf
    except ImportError:
        pypdf = None

    def pypdf_text(data):
        return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages]

    for name, data in pdfs:
        n = len(pdfium.PdfDocument(data))
        mb = len(data) / 1e6
        tools = [("qa PDF converter (pypdfium2 + paragraphs)", lambda d=data: convert_pdf(d)),
                 ("pypdfium2 page text", lambda d=data: pdfium_text(d))]
        if pypdf:
            tools.append(("pypdf page text", lambda d=data: pypdf_text(d)))
        for tool, fn in tools:
            s = timed(fn, args.repeat)
            rows.append((tool, name, f"{mb:.2f}", str(n), f"{s:.2f}", f"{n / s:.0f}", f"{mb / s:.2f}"))

    docx_data = squad_docx(arts)
    s = timed(lambda: convert_docx(docx_data), args.repeat)
    n_par = sum(len(ps) + 5 for _, ps in arts)
    rows.append(("qa Word converter (python-docx)", "SQuAD dev as .docx (no pages: paragraphs and table rows)",
                 f"{len(docx_data) / 1e6:.2f}", f"{n_par} paragraphs", f"{s:.2f}", f"{n_par / s:.0f} paragraphs/s",
                 f"{len(docx_data) / 1e6 / s:.2f}"))
    pages = [news_page(t, ps) for t, ps in arts]
    mb = sum(len(p) for p in pages) / 1e6
    s = timed(lambda: [convert_html(p) for p in pages], args.repeat)
    rows.append(("qa web page converter (trafilatura)", f"{len(pages)} news pages of ~{mb / len(pages) * 1000:.0f} KB",
                 f"{mb:.2f}", str(len(pages)), f"{s:.2f}", f"{len(pages) / s:.1f}", f"{mb / s:.2f}"))

    head = ("converter", "file", "MB", "pages", "s", "pages/s", "MB/s")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(r) + " |")

    # text quality on the typeset SQuAD PDF: paragraphs found verbatim
    print()
    print("| extractor | SQuAD paragraphs found verbatim (of %d) |" % len(truth))
    print("|---|---|")
    ours = {norm(b.text) for b in convert_pdf(pdf).blocks}
    print(f"| qa PDF converter: one rebuilt paragraph each | {sum(norm(t) in ours for t in truth)} |")
    for tool, pages_text in (("pypdfium2 page text, lines joined", pdfium_text(pdf)),
                             ("pypdf page text, lines joined", pypdf_text(pdf) if pypdf else None)):
        if pages_text is None:
            continue
        whole = norm(" ".join(p.replace("\r\n", " ").replace("\n", " ") for p in pages_text))
        print(f"| {tool} (inside the running text) | {sum(norm(t) in whole for t in truth)} |")


if __name__ == "__main__":
    main()
