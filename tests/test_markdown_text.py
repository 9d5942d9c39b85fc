"""Card text rendered from Markdown: formatting and tables kept, raw HTML shown as text, only http(s) links."""

from __future__ import annotations

from smart_app.markdown_text import markdown_html

HOSTILE = """**Opioids:** oxycodone <script>alert("x")</script>

| Drug | MME |
|---|---|
| oxycodone | 30 |

<img src=x onerror="alert(1)"> <iframe src="https://evil.example"></iframe>
[run](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=) [file](/etc/passwd)
[CDC](https://www.cdc.gov/) ![pixel](https://tracker.example/p.png)
<a href="javascript:alert(2)">raw link</a>
"""


def test_formatting_and_tables_render_as_html() -> None:
    html = str(markdown_html(HOSTILE))
    assert "<strong>Opioids:</strong>" in html and "**" not in html
    assert "<table>" in html and "<td>oxycodone</td>" in html and "|---|" not in html


def test_no_raw_html_gets_through() -> None:
    html = str(markdown_html(HOSTILE))
    for tag in ("<script", "<img", "<iframe", '<a href="javascript'):
        assert tag not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html


def test_only_http_links_become_links() -> None:
    html = str(markdown_html(HOSTILE))
    assert '<a href="https://www.cdc.gov/" target="_blank" rel="noopener noreferrer">CDC</a>' in html
    assert 'href="javascript' not in html and 'href="data:' not in html and 'href="/etc' not in html
    assert "<img" not in html  # images are switched off; the picture's link text stays


def test_empty_detail_is_empty() -> None:
    assert str(markdown_html(None)) == "" and str(markdown_html("")) == ""
