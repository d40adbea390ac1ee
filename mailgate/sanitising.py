"""Email HTML made safe to store and show in the forum, and read as plain text.

``sanitise`` runs once, when a message is stored; its output is rendered with ``|safe``. It parses like a
browser (html5lib, as vendored by bleach), drops elements whose content must never show (scripts, styles,
frames, SVG…), then lets a bleach ``Cleaner`` keep only an email allow-list. Text and attribute values are
normalised to NFC one by one, never the markup: NFC turns ``>`` + U+0338 into ``≯`` and would reopen a tag.
A text starting with such a character gets it as ``&#824;``, so NFC of the whole output changes nothing.
``html_to_text`` reads the same parse as lines the quote trimmer understands.
"""

import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from typing import Any

import tinycss2
from bleach import html5lib_shim
from bleach.sanitizer import Cleaner

_DROPPED_WITH_CONTENT = frozenset(
    "script style head title noscript template iframe object embed applet noembed noframes frameset svg math"
    " select textarea".split()
)
_TAGS = frozenset(
    "p br div span b strong i em u s blockquote pre code ul ol li h1 h2 h3 h4 h5 h6 hr sub sup a img"
    " table caption thead tbody tfoot tr td th".split()
)
_CSS_PROPERTIES = frozenset(
    "color background-color font-weight font-style text-decoration text-align".split()
)
_CSS_FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla"})
_CSS_PLAIN_TOKENS = frozenset({"whitespace", "ident", "hash", "number", "percentage", "dimension", "literal"})
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})  # a link with no scheme would point into the forum
# Only the message's own inline images: a remote image tells its sender who read the mail, and when.
_IMAGE_SCHEMES = frozenset({"cid"})
_LINK_REL = "nofollow noopener noreferrer"
_HTML_SPACE = " \t\n\r\f"  # not U+00A0: Outlook's "&nbsp;" paragraph is a blank line that shows

_PARSING = threading.Lock()  # html5lib parsers and bleach's Cleaner keep state while they run
_PARSER = html5lib_shim.HTMLParser(namespaceHTMLElements=False)
_WALKER = html5lib_shim.getTreeWalker("etree")
_SERIALIZER = html5lib_shim.HTMLSerializer(
    quote_attr_values="always", escape_lt_in_attrs=True, escape_rcdata=True
)


def _has_scheme(value: str, schemes: frozenset[str]) -> bool:
    scheme, colon, _ = value.strip().partition(":")
    return bool(colon) and scheme.lower() in schemes


def _allows_attribute(tag: str, name: str, value: str) -> bool:
    if name == "style":
        return True
    if tag == "a":
        return name == "title" or (name == "href" and _has_scheme(value, _LINK_SCHEMES))
    if tag == "img":
        return name == "alt" or (name == "src" and _has_scheme(value, _IMAGE_SCHEMES))
    return tag in ("td", "th") and name in ("colspan", "rowspan") and value.strip().isdigit()


def _is_plain_css(tokens: list[Any]) -> bool:
    for token in tokens:
        if token.type == "function":
            if token.lower_name not in _CSS_FUNCTIONS or not _is_plain_css(token.arguments):
                return False
        elif token.type not in _CSS_PLAIN_TOKENS:
            return False
    return True


class _EmailStyle:
    """A few presentational properties, with plain values only: no url(), expression() or strings."""

    def sanitize_css(self, style: str) -> str:
        kept = [
            f"{rule.lower_name}: {tinycss2.serialize(rule.value).strip()}" + (" !important" * rule.important)
            for rule in tinycss2.parse_declaration_list(style, skip_comments=True, skip_whitespace=True)
            if rule.type == "declaration" and rule.lower_name in _CSS_PROPERTIES and _is_plain_css(rule.value)
        ]
        return "; ".join(kept)


class _DroppedContent(html5lib_shim.Filter):
    """Leaves out comments and whole elements (tags and content) that must never be shown."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        depth = 0
        for token in super().__iter__():
            kind, name = token["type"], token.get("name")
            if depth:
                depth += (kind == "StartTag") - (kind == "EndTag")
            elif name in _DROPPED_WITH_CONTENT:
                depth = int(kind == "StartTag")
            elif kind != "Comment":
                yield token


class _SafeLinks(html5lib_shim.Filter):
    """Links open in a new tab and tell the target nothing about the forum."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["name"] == "a" and (None, "href") in token["data"]:
                token["data"][(None, "rel")] = _LINK_REL
                token["data"][(None, "target")] = "_blank"
            yield token


class _Tidied(html5lib_shim.Filter):
    """Drops attributes left empty (a style with nothing allowed); a refused image shows its alt text."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag"):
                token["data"] = {key: value for key, value in token["data"].items() if value.strip()}
            if token["type"] == "EmptyTag" and token["name"] == "img" and (None, "src") not in token["data"]:
                token = {"type": "Characters", "data": unescape(token["data"].get((None, "alt"), ""))}
            yield token


class _NormalisedText(html5lib_shim.Filter):
    """NFC for text and attribute values, after the sanitiser has joined what stripped tags split."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in super().__iter__():
            if token["type"] == "Characters":
                yield from _normalised_characters(token["data"])
                continue
            if isinstance(token.get("data"), dict):
                token["data"] = {key: unicodedata.normalize("NFC", v) for key, v in token["data"].items()}
            yield token


def _normalised_characters(data: str) -> Iterator[dict[str, str]]:
    text = unicodedata.normalize("NFC", data)
    if unicodedata.normalize("NFC", ">" + text[:1]) != ">" + text[:1]:  # ">" + U+0338 is "≯": keep the
        yield {"type": "Entity", "name": f"#{ord(text[0])}"}  # tag before intact under a later NFC
        text = text[1:]
    yield {"type": "Characters", "data": text}


_CLEANER = Cleaner(
    tags=_TAGS,
    attributes=_allows_attribute,
    protocols=_LINK_SCHEMES | _IMAGE_SCHEMES,
    strip=True,
    strip_comments=True,
    filters=[_Tidied, _SafeLinks, _NormalisedText],
    css_sanitizer=_EmailStyle(),
)


def _parse(markup: str) -> Iterator[dict[str, Any]]:
    return _DroppedContent(_WALKER(_PARSER.parseFragment(markup)))


def sanitise(html: str) -> str:
    """HTML safe to store and render as is: the allow-list above, links made safe, text in NFC."""
    with _PARSING:
        shown = _SERIALIZER.render(_parse(html))
        cleaned: str = _CLEANER.clean(shown)
    return cleaned.strip(_HTML_SPACE)


_BLOCKS = frozenset(
    "address article aside blockquote caption center dd div dl dt fieldset figure figcaption footer form"
    " h1 h2 h3 h4 h5 h6 header li main nav ol p pre section ul".split()
)
_SPACED_BLOCKS = frozenset("h1 h2 h3 h4 h5 h6 blockquote pre dl".split())  # and <p>, top-level lists
_TABLE_PARTS = frozenset({"table", "tr", "td", "th"})
_RULE = "_" * 32  # what Outlook writes for <hr> in its plain-text part
_SPACES = re.compile(r"\s+")


@dataclass
class _Lines:
    """Finished lines (quote depth, text) and the words of the line being written, for a page or a cell."""

    lines: list[tuple[int, str]] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    has_text: bool = False
    bullet: str = ""


class _TextWriter:
    """Writes the token stream of one parse as lines, quoted ones marked with their depth."""

    def __init__(self) -> None:
        self.stack = [_Lines()]  # the page, then one per open table cell
        self.rows: list[list[_Lines]] = []  # cells of the current row, one list per open table
        self.links: list[tuple[str, list[str], int]] = []
        self.quote_depth = self.list_depth = self.pre_depth = 0
        self.spaced_paragraph = False

    def write(self, token: dict[str, Any]) -> None:
        kind, name = token["type"], token.get("name", "")
        if kind in ("Characters", "SpaceCharacters"):
            self._write_text(token["data"])
        elif kind == "EmptyTag" and name in ("br", "hr"):
            self._end_line(keep_empty=name == "br")
            if name == "hr":
                self._add_line(_RULE)
        elif kind == "StartTag":
            self._start(name, token["data"])
        elif kind == "EndTag":
            self._end(name)

    @property
    def _top(self) -> _Lines:
        return self.stack[-1]

    def _write_text(self, data: str) -> None:
        for number, piece in enumerate(data.replace("\r\n", "\n").split("\n") if self.pre_depth else [data]):
            if number:
                self._end_line(keep_empty=True)
            self._top.words.append(piece)
            self._top.has_text |= bool(piece.strip(_HTML_SPACE)) or bool(self.pre_depth)

    def _add_line(self, text: str) -> None:
        if text:  # a blank line leaves the "- " of a list item for the item's first text
            text, self._top.bullet = self._top.bullet + text, ""
        self._top.lines.append((self.quote_depth, text))

    def _end_line(self, keep_empty: bool = False) -> None:
        text = "".join(self._top.words)
        if self._top.has_text or keep_empty:
            self._add_line(text.rstrip() if self.pre_depth else _SPACES.sub(" ", text).strip())
        self._top.words, self._top.has_text = [], False

    def _start(self, name: str, attrs: dict[tuple[str | None, str], str]) -> None:
        if name == "a":
            self.links.append((attrs.get((None, "href"), ""), self._top.words, len(self._top.words)))
        elif name in _TABLE_PARTS:
            self._start_table_part(name)
        elif name in _BLOCKS:
            if name == "p":  # Outlook's MsoNormal paragraphs have no margins: one per line
                self.spaced_paragraph = "mso" not in attrs.get((None, "class"), "").lower()
            spaced = self._is_spaced(name)
            self._end_line()
            if spaced:
                self._add_line("")
            self.quote_depth += name == "blockquote"
            self.list_depth += name in ("ul", "ol")
            self.pre_depth += name == "pre"
            if name == "li":
                self._top.bullet = "  " * max(self.list_depth - 1, 0) + "- "

    def _is_spaced(self, name: str) -> bool:
        if name == "p":
            return self.spaced_paragraph
        return name in _SPACED_BLOCKS or (name in ("ul", "ol") and not self.list_depth)

    def _end(self, name: str) -> None:
        if name == "a":
            self._end_link()
        elif name in _TABLE_PARTS:
            self._end_table_part(name)
        elif name in _BLOCKS:
            self._end_line()
            self.quote_depth -= name == "blockquote"
            self.list_depth -= name in ("ul", "ol")
            self.pre_depth -= name == "pre"
            if self._is_spaced(name):
                self._add_line("")

    def _end_link(self) -> None:
        if not self.links:
            return
        href, words, start = self.links.pop()
        label = "".join(words[start:]) if words is self._top.words else ""
        if _has_scheme(href, _LINK_SCHEMES) and _target_key(label) != _target_key(href):
            self._top.words.append(f" ({href})")
            self._top.has_text = True

    def _start_table_part(self, name: str) -> None:
        if name == "table":
            self._end_line()
            self.rows.append([])
        elif self.rows and name == "tr":
            self._end_row()
        elif self.rows:
            self._end_cell()
            self.stack.append(_Lines())
            self.rows[-1].append(self._top)

    def _end_table_part(self, name: str) -> None:
        if not self.rows:
            return
        if name in ("td", "th"):
            self._end_cell()
            return
        self._end_row()
        if name == "table":
            self.rows.pop()

    def _end_cell(self) -> None:
        if self.rows[-1] and self.rows[-1][-1] is self._top:
            self._end_line()
            self.stack.pop()

    def _end_row(self) -> None:
        self._end_cell()
        cells, self.rows[-1] = self.rows[-1], []
        texts = [[text for _, text in cell.lines if text] for cell in cells]
        if any(len(lines) > 1 for lines in texts):  # a layout table: its cells are blocks
            self._top.lines.extend(line for cell in cells for line in cell.lines)
        elif row := [lines[0] for lines in texts if lines]:
            self._add_line(" | ".join(row))

    def text(self) -> str:
        self._end_line()
        shown: list[str] = []
        blank: int | None = None  # a run of blank lines becomes one, at the shallowest depth in the run
        for depth, line in self.stack[0].lines:
            if not line:
                blank = depth if blank is None else min(blank, depth)
                continue
            if blank is not None and shown:
                shown.append(("> " * blank).rstrip())
            shown.append("> " * depth + line)
            blank = None
        return unicodedata.normalize("NFC", "\n".join(shown))


def _target_key(url: str) -> str:
    key = _SPACES.sub("", url).lower().removeprefix("mailto:")
    return re.sub(r"^https?://(?:www\.)?", "", key).rstrip("/")


def html_to_text(html: str) -> str:
    """Readable text of an HTML-only message: lines, "- " items, "> " quotes, "a | b" table rows."""
    writer = _TextWriter()
    with _PARSING:
        for token in _parse(html):
            writer.write(token)
    return writer.text()
