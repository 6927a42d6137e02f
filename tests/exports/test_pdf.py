"""The documents open in LibreOffice: converted to PDF, the report has pages and the briefing
exactly one. Skipped, visibly, where LibreOffice is not installed (CI installs it)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from exports.audit_report import audit_report_docx
from exports.briefing import briefing_docx
from schemas.reports import AuditReportData, BriefingData

CONVERT_TIMEOUT = 120


@pytest.fixture(scope="module")
def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        pytest.skip("LibreOffice not installed: cannot check the documents convert to PDF")
    return found


def to_pdf(soffice: str, docx: bytes, name: str, tmp_path: Path) -> Path:
    source = tmp_path / f"{name}.docx"
    source.write_bytes(docx)
    out = tmp_path / "pdf"
    # A private profile: parallel runs (xdist, two CI jobs) would otherwise share one and clash.
    profile = (tmp_path / "lo-profile").as_uri()
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=CONVERT_TIMEOUT,
        check=False,
    )
    pdf = out / f"{name}.pdf"
    assert pdf.exists(), f"LibreOffice did not convert {source.name}: {result.stderr.strip()}"
    assert pdf.read_bytes().startswith(b"%PDF")
    return pdf


def pdf_pages(pdf: Path) -> int | None:
    """The page count from pdfinfo (poppler-utils), or None where it is not installed."""
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:
        return None
    info = subprocess.run(
        [pdfinfo, str(pdf)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    match = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    assert match, info
    return int(match.group(1))


def test_the_report_converts_to_pdf(
    soffice: str, tmp_path: Path, report_data: AuditReportData
) -> None:
    pdf = to_pdf(soffice, audit_report_docx(report_data), "report", tmp_path)
    pages = pdf_pages(pdf)
    # Title, contents, the sections and the appendix on its own page.
    assert pages is None or pages >= 4


def test_an_empty_report_converts_to_pdf(
    soffice: str, tmp_path: Path, empty_report_data: AuditReportData
) -> None:
    pdf = to_pdf(soffice, audit_report_docx(empty_report_data), "empty", tmp_path)
    pages = pdf_pages(pdf)
    assert pages is None or pages >= 1


def test_the_briefing_fits_one_page(
    soffice: str, tmp_path: Path, briefing_data: BriefingData
) -> None:
    pdf = to_pdf(soffice, briefing_docx(briefing_data), "briefing", tmp_path)
    pages = pdf_pages(pdf)
    if pages is None:
        pytest.skip("pdfinfo (poppler-utils) not installed: cannot count the briefing's pages")
    assert pages == 1
