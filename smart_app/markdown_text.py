"""Card text as safe HTML: CommonMark plus tables, raw HTML shown as text, links only to http(s) addresses."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

SAFE_SCHEMES = ("http://", "https://")


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.disable("image")  # a card has no business loading pictures from elsewhere
    # Anything but an absolute http(s) link (javascript:, data:, relative paths) stays plain text.
    md.validateLink = lambda url: url.strip().lower().startswith(SAFE_SCHEMES)

    def link_open(renderer, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        tokens[idx].attrSet("target", "_blank")
        tokens[idx].attrSet("rel", "noopener noreferrer")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


_MARKDOWN = _renderer()


def markdown_html(source: str | None) -> Markup:
    """The card's Markdown as HTML that is safe to put in the page (the renderer escapes every raw tag)."""
    return Markup(_MARKDOWN.render(source or ""))  # noqa: S704 - html=False: markdown-it escapes raw HTML
