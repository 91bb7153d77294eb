"""Cells of a user's CSV as they really come: identifiers with stray spaces, frames as ``0.0``.

Every reader of a labels or masks CSV takes its identifiers (``series_uid``,
``sop_instance_uid``, ``series_key``, ``instance_key``, ``patient_id``) through
:func:`csv_key` and its ``frame`` through :func:`csv_frame`, so a cell means the same to each;
every reader of a CSV a user may have saved (labels, masks, image lists, a run's
``split.csv``) reads the file through :func:`csv_text` (a BOM, spaces around column names).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from pipeline.errors import RadpipeError
from pipeline.words import are, word

__all__ = [
    "CsvRow",
    "csv_frame",
    "csv_key",
    "csv_label",
    "csv_rows",
    "csv_text",
    "csv_uid",
    "name_lines",
    "refuse_spreadsheet_numbers",
    "spreadsheet_number",
]

_WHOLE = re.compile(r"[+-]?\d+(\.0*)?")
_BREAK = re.compile(r"\r\n|\r|\n")
_PAD = " \t\r\n\x00"
#: A number as a spreadsheet writes it in scientific notation (``1.23457E+27``): the
#: exponent's sign is always written. Without it, a hashed key of digits and one ``e``
#: (``8e32019382960996``, about 1 in 1,300 keys) looked the same and was refused.
_SCIENTIFIC = re.compile(r"[+-]?\d+(\.\d*)?[eE][+-]\d+")
#: A plain decimal number: what a spreadsheet writes of a number formatted with its digits.
_PLAIN = re.compile(r"\d+(\.\d+)?")
#: The columns whose cells are UIDs or hashed keys.
ID_COLUMNS = ("series_uid", "sop_instance_uid", "series_key", "instance_key")


class CsvRow(dict[str, str]):
    """One row of a user's CSV, as :class:`csv.DictReader` gives it, with its file ``line``.

    ``line`` (1-based) is the line of the file the row starts on, so a message can name the
    line a user's editor shows.
    """

    line: int = 0


def csv_text(path: str | Path) -> io.StringIO:
    """A user's CSV file (labels, masks, image lists) as text for :mod:`csv`.

    UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8"); line endings are left to
    the csv module. Every reader of a user's CSV goes through here, so a BOM never becomes
    part of the first column's name.

    Raises
    ------
    RadpipeError
        Naming the file: not found, not UTF-8 (a spreadsheet's plain "CSV" in a Windows
        code page, where ``é`` is one byte 0xE9; the byte and its offset are named), a
        column name given twice in the header, or a row with filled cells past the header's
        columns (its line named).
    """
    path = Path(path)
    if not path.is_file():
        raise RadpipeError(f"{path.name}: file not found.")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode Text"
        raise RadpipeError(
            f"{path.name}: not UTF-8 text ("
            + ("UTF-16, as Excel saves 'Unicode Text', separated by tabs" if utf16 else
               f"byte 0x{data[err.start]:02X} at offset {err.start}, e.g. an accented "
               "letter saved in a Windows code page")
            + "); save it as UTF-8 ('CSV UTF-8' in Excel) and run again."
        ) from None  # fmt: skip
    first, newline, rest = text.partition("\n")
    if re.fullmatch(r"sep=.\r?", first):  # Excel's separator hint, no header
        raise RadpipeError(
            f"{path.name} line 1: {first.strip()!r} is Excel's separator hint, not the header "
            "row: delete that line (the header comes first) and run again."
        )
    try:
        header = [c.strip() for c in next(csv.reader([first]), [])]
    except csv.Error as err:
        raise RadpipeError(f"{path.name} line 1: {_csv_fault(str(err))}") from None
    twice = sorted({c for c in header if c and header.count(c) > 1})
    if twice:  # csv.DictReader would keep the last of them, silently
        raise RadpipeError(
            f"{path.name}: {word(len(twice), 'column')} {', '.join(map(repr, twice))} "
            f"{are(len(twice), 'appears', 'appear')} more than once in "
            "the header; which one to read is ambiguous: rename or remove the copies."
        )
    # Column names without the spaces around them ("label " is the column label), and
    # without the rows of empty cells that end a spreadsheet's export (",,,": rows once used,
    # now cleared), which were read as rows naming no file or series. Such a row between
    # others stays, so that every message's line number is the file's.
    _refuse_extra_cells(path.name, text, len(header))
    names = io.StringIO()
    csv.writer(names, lineterminator="\r" * first.endswith("\r")).writerow(header)
    lines = rest.splitlines(keepends=True)
    while lines and not lines[-1].strip(" \t,\r\n"):
        lines.pop()
    return io.StringIO(names.getvalue() + newline + "".join(lines) if header else text,
                       newline="")  # fmt: skip


def _refuse_extra_cells(name: str, text: str, columns: int) -> None:
    """Refuse a row with a filled cell past the header's columns, naming its line.

    :class:`csv.DictReader` files such cells under the key ``None``, and every reader here
    ignored them: a class name written with an unquoted comma (``1.2.3,1,round, lesion``)
    became ``round``, and a row shifted by a stray comma was read from the wrong columns,
    unsaid. Empty cells past the header (``a,b,,``, a spreadsheet's export) are no value.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        for row in reader:
            if len(row) > columns and any(c.strip() for c in row[columns:]):
                raise RadpipeError(
                    f"{name} line {start}: {len(row)} cells but the header names {columns} "
                    "columns (a comma inside a value that is not quoted?); quote that value, "
                    "or remove the extra cells, and run again."
                )
            start = reader.line_num + 1
    except csv.Error as err:
        raise RadpipeError(f"{name} line {start}: {_csv_fault(str(err))}") from None


def _csv_fault(reason: str) -> str:
    """What :mod:`csv`'s strict reading refused, in the user's words.

    The lenient reader every table is read with took a quote never closed as the start of
    one cell holding the rest of the file (its rows gone, unsaid), and stopped with a
    traceback on a cell over 131072 characters (``field larger than field limit``).
    """
    if "end of data" in reason:
        return (
            'a quote (") opens a cell here that is never closed, so the rest of the file '
            'would be one cell: close the quote, or double a quote inside a quoted value ("")'
            ", and run again."
        )
    if "field limit" in reason:
        return (
            "a cell of this row is over 131072 characters long, more than any label, key or "
            'path (a quote (") never closed makes the rest of the file one cell): correct '
            "it and run again."
        )
    return (
        f'not CSV as spreadsheets write it ({reason}): a value holding a quote (") must be '
        'quoted as a whole with the quote doubled ("a ""b"" c"); correct it and run again.'
    )


def csv_rows(reader: csv.DictReader[str]) -> Iterator[CsvRow]:
    r"""The rows of ``reader``, each with the file line it starts on.

    ``csv.DictReader`` skips truly blank lines, and a quoted cell may span lines, so the
    row's position in the file is not its count plus one: ``reader.line_num`` is the line
    a row ends on, and the line breaks inside its cells lead back to where it starts. The
    reader's source must keep its line endings (``newline=""``), as :mod:`csv` asks.

    Examples
    --------
    >>> import io
    >>> text = 'id,note\n\n1,"two\nlines"\n\n2,x\n'
    >>> [(r.line, r["id"]) for r in csv_rows(csv.DictReader(io.StringIO(text, newline="")))]
    [(3, '1'), (6, '2')]
    """
    for raw in reader:
        row = CsvRow(raw)
        cells = [c for v in raw.values() for c in (v if isinstance(v, list) else [v])]
        breaks = sum(len(_BREAK.findall(c)) for c in cells if isinstance(c, str))
        row.line = reader.line_num - breaks
        yield row


def csv_key(text: str | None) -> str:
    """An identifier as a CSV cell gives it, without the spaces or NUL padding around it.

    A DICOM UID holds only digits and dots (PS3.5 9.1) and a hashed key only hex digits, so
    a space around one is never part of it: it comes from a spreadsheet cell, a copy from a
    viewer, or the NUL that pads a UID to an even length (PS3.5 6.2, UI). Kept, it would hash
    to a key no image has, and the row's label or mask would silently match nothing.

    Excel keeps a cell that looks like a number as text by writing it as a formula,
    ``="1.2.840..."``; read as it stands, that UID matched nothing. The formula's text is
    the identifier.

    Examples
    --------
    >>> csv_key(" 1.2.840.10008.1 "), csv_key("1.2.3" + chr(0)), csv_key(None)
    ('1.2.840.10008.1', '1.2.3', '')
    >>> csv_key('="1.2.840.10008.1"')
    '1.2.840.10008.1'
    """
    cell = (text or "").strip(_PAD)
    if len(cell) >= 3 and cell.startswith('="') and cell.endswith('"'):
        cell = cell[2:-1].strip(_PAD)
    return cell


def csv_uid(text: str | None, column: str) -> str:
    """A UID or key cell (``column``) as :func:`csv_key` reads it; keys lower case, as written.

    Raises
    ------
    ValueError
        The cell is a number in scientific notation (``1.23457E+27``, the exponent signed
        as spreadsheets write it): what a spreadsheet makes of a UID it took for a number.
        Neither a UID (digits and dots, PS3.5 9.1) nor a hashed key (hex digits, no sign)
        can look so, and the digits it lost cannot be had back, so the row would match
        nothing. The message quotes the cell.

    Examples
    --------
    >>> csv_uid('="1.2.3"', "series_uid"), csv_uid("8E32019382960996", "instance_key")
    ('1.2.3', '8e32019382960996')
    >>> csv_uid("1.23457E+27", "series_uid")
    Traceback (most recent call last):
    ...
    ValueError: series_uid '1.23457E+27' is a number in scientific notation, not a UID or key: ...
    """
    cell = csv_key(text)
    if _SCIENTIFIC.fullmatch(cell):
        raise ValueError(
            f"{column} {cell!r} is a number in scientific notation, not a UID or key: a "
            "spreadsheet took it for a number and dropped digits; format the column as text "
            '(or write each cell as ="..."), export again, and run again'
        )
    return cell.lower() if column.endswith("_key") and re.fullmatch("[0-9a-fA-F]+", cell) else cell


def spreadsheet_number(text: str | None, column: str) -> str | None:
    """Why a UID or key cell looks like a number a spreadsheet made of it (``None``: not).

    For a row that matched no image; ``column`` names the cell's column. A DICOM UID has
    dots between its parts (PS3.5 9.1): a plain number in a ``*_uid`` column
    (``123456789012345000000000000``, no dots, or one) is one a spreadsheet took for a number
    and, in a number format, wrote with 15 significant digits and then zeros, or without its
    dots (thousands separators in some locales). A hashed key is 16 hex digits: a ``*_key``
    cell of only digits and another length lost its leading zeros or was rounded. Such cells
    are only said of rows that matched nothing: a value that matches an image is never
    doubted.

    Examples
    --------
    >>> spreadsheet_number("123456789012345000000000000", "series_uid")[:60]
    "series_uid '123456789012345000000000000' is a plain number, "
    >>> spreadsheet_number("1.2.840.10008", "series_uid") is None
    True
    >>> spreadsheet_number("830123456789012", "series_key")[:46]
    "series_key '830123456789012' is a number of 15"
    """
    cell = csv_key(text)
    advice = ("format the column as text (or write each cell as =\"...\"), export again, and "
              "run again")  # fmt: skip
    if column.endswith("_uid") and _PLAIN.fullmatch(cell):
        digits = cell.replace(".", "").lstrip("0")
        how = (
            "rounded to 15 significant digits, the rest zeros"
            if len(digits) > 15 and set(digits[15:]) == {"0"}
            else "its dots lost"
        )
        return (
            f"{column} {cell!r} is a plain number, not a UID (a UID has dots between its "
            f"parts, PS3.5 9.1) and matches no image: a spreadsheet took it for a number "
            f"({how}); {advice}"
        )
    if column.endswith("_key") and cell.isdigit() and len(cell) != 16:
        return (
            f"{column} {cell!r} is a number of {len(cell)} digits, not a key (16 hex digits), "
            "and matches no image: a spreadsheet took it for a number (leading zeros dropped "
            f"or digits rounded); {advice}"
        )
    return None


def refuse_spreadsheet_numbers(path: Path, lines: Iterable[int], name: str = "") -> None:
    """Refuse rows that matched no image and whose UID or key a spreadsheet damaged.

    ``lines``: those rows' lines in the CSV at ``path``; the damage is what
    :func:`spreadsheet_number` says.

    Raises
    ------
    RadpipeError
        ``"<name> line N: series_uid '1234...000' is a plain number, not a UID ..."`` for
        the first such row (``name``: how the file is named, default its file name).
    """
    wanted = set(lines)
    if not wanted:
        return
    for row in csv_rows(csv.DictReader(csv_text(path))):
        if row.line not in wanted:
            continue
        for column in ID_COLUMNS:
            if column in row and (why := spreadsheet_number(row[column], column)):
                raise RadpipeError(f"{name or path.name} line {row.line}: {why}.")


def csv_frame(text: str | None) -> int:
    """A ``frame`` cell as a frame number (0-based); empty is frame 0.

    A whole number written as a float (``0.0``, as pandas writes an integer column that had
    an empty cell) is that number.

    Raises
    ------
    ValueError
        Not a whole number of at least 0 (``1.5``, ``a``, ``-1``); the message quotes the cell.

    Examples
    --------
    >>> csv_frame(""), csv_frame("3"), csv_frame(" 2.0 ")
    (0, 3, 2)
    """
    cell = (text or "").strip()
    if not cell:
        return 0
    if not _WHOLE.fullmatch(cell) or float(cell) < 0:
        raise ValueError(f"frame {cell!r} is not a frame number (0, 1, 2, ...)")
    return int(cell.split(".")[0])


def csv_label(text: str | None) -> str:
    """A label cell as text, without spaces around it; ``1.0`` is the integer ``1``.

    pandas writes an integer column that had an empty cell as floats. Left as ``"1.0"``,
    such labels were class *names*, sorted as text (``"10.0"`` before ``"2.0"``), so an
    index no longer meant the user's class, and a ``class_name`` column beside them was
    ignored.

    Examples
    --------
    >>> csv_label(" 1.0 "), csv_label("2"), csv_label("benign "), csv_label("1.5")
    ('1', '2', 'benign', '1.5')
    """
    cell = (text or "").strip()
    return cell.split(".")[0] if "." in cell and _WHOLE.fullmatch(cell) else cell


def csv_spacing(text: str | None, ndim: int, where: str) -> tuple[float, ...] | None:
    """A ``spacing`` cell of an image list as the pixel size in mm per axis.

    One number for every axis (``0.069``) or one per axis as ``radpipe convert``'s manifest
    writes it (rows x columns: ``0.07x0.06``; ``2.5x0.7x0.7`` for a ``(D, H, W)`` volume).
    Empty: ``None``.

    Raises
    ------
    RadpipeError
        Naming ``where`` (file and line) and the cell: not numbers, not positive, or
        another count than 1 or ``ndim``.

    Examples
    --------
    >>> csv_spacing("0.5", 2, "a.csv line 2"), csv_spacing(" 0.7x0.6 ", 2, "a.csv line 2")
    ((0.5, 0.5), (0.7, 0.6))
    """
    cell = (text or "").strip()
    if not cell:
        return None
    try:
        values = tuple(float(v) for v in cell.lower().split("x"))
    except ValueError:
        values = ()
    if len(values) == 1:
        values = values * ndim
    if len(values) != ndim or not all(v > 0 and v != float("inf") for v in values):
        raise RadpipeError(
            f"{where}: spacing {cell!r} is not a pixel size in mm: give one positive number "
            f"or {ndim} joined by 'x' ({'x'.join(['0.5'] * ndim)}), rows before columns."
        )
    return values


def name_lines(lines: list[int], shown: int = 5) -> str:
    """Lines of a CSV for a message: the first ``shown`` in order, the rest counted.

    Examples
    --------
    >>> name_lines([8, 3]), name_lines([4]), name_lines([1, 2, 3], shown=2)
    ('lines 3, 8', 'line 4', 'lines 1, 2 and 1 more')
    """
    ordered = sorted(lines)
    more = f" and {len(ordered) - shown} more" if len(ordered) > shown else ""
    return "line" + "s" * (len(ordered) > 1) + " " + ", ".join(map(str, ordered[:shown])) + more
