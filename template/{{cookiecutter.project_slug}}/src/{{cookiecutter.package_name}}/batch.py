"""Batch scoring of a file of any length: rows in (CSV, Parquet or Arrow), the same rows
with the model's answers out, in bounded memory.

The file is read, scored and written a batch of rows at a time, the next batch read while
one is scored. A row the model cannot take (a number column holding text or an infinite
number, no feature at all, a CSV line of more or fewer fields than the header) does not
stop the run: it goes, with its row number in the input and the reason, to the rejected
file beside the output, and the other rows are scored.
The output and the rejected file appear complete when the run ends, or not at all.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from {{ cookiecutter.package_name }}.bundle import ModelBundle
from {{ cookiecutter.package_name }}.data import DataError
{%- if cookiecutter is at_level(4) %}
from {{ cookiecutter.package_name }}.monitoring.batch_log import (
    BatchLog,
)
{%- endif %}
from {{ cookiecutter.package_name }}.score import class_probabilities

# Rows read, scored and written at a time. Memory holds three batches (one read ahead,
# one scored, one written); at this size the pipeline's cost per call is spread thin.
BATCH_ROWS = 100_000
FORMATS = {".csv": "CSV", ".parquet": "Parquet", ".arrow": "Arrow", ".feather": "Arrow"}
# Bytes of a CSV file read to learn its header and the length of a line.
CSV_SAMPLE_BYTES = 2**16

# A batch as read, its features as the model takes them, and its rows' reasons for refusal.
Prepared = tuple[pa.RecordBatch, pd.DataFrame, dict[int, str]]


@dataclass(frozen=True)
class BatchResult:
    """What a run wrote: rows scored into the output, rows rejected into ``rejected_path``."""

    scored: int
    rejected: int
    rejected_path: Path


def rejected_path_for(output: Path) -> Path:
    """Where the rows the model could not take go: beside the output, as CSV."""
    return output.with_name(f"{output.stem}.rejected.csv")


def table_format(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise DataError(
            f"{path}: a file of rows ends in {', '.join(FORMATS)}, not {path.suffix or 'nothing'}."
        ) from None


def score_file(
    bundle: ModelBundle,
    input_path: Path,
    output_path: Path,
    batch_rows: int = BATCH_ROWS,
{%- if cookiecutter is at_level(4) %}
    log: BatchLog | None = None,
{%- endif %}
) -> BatchResult:
    """Score every row of ``input_path`` into ``output_path`` (the format each suffix names)."""
    table_format(output_path)
    malformed: list[tuple[int | None, str]] = []
    schema, batches = open_table(input_path, batch_rows, malformed)
    missing = [name for name in bundle.features if name not in schema.names]
    if missing:
        raise DataError(f"{input_path} is missing column(s): {', '.join(missing)}")
    added = output_fields(bundle)
    scored = pa.schema([*schema, *added])
    rejected_path = rejected_path_for(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        # BLAS on one thread: its threads spin while they wait for work, on the core the
        # reading and writing threads need, and the configured models' products of
        # matrices (rows by a few dozen features) gain nothing from a second one. OpenMP,
        # which the gradient boosting predicts with, keeps its threads.
        stack.enter_context(threadpool_limits(limits=1, user_api="blas"))
        output = stack.enter_context(_Writer(output_path, scored, empty_file=True))
        rejected = stack.enter_context(_Writer(rejected_path, _rejected_schema(schema)))
{%- if cookiecutter is at_level(4) %}
        if log is not None:
            stack.enter_context(log)
{%- endif %}
        # Entered last, so left first: every write is done before the files close.
        behind = stack.enter_context(_WriteBehind())
        # Row numbers of the CSV lines set aside: the rows Arrow returns step over them.
        skipped: set[int] = set()
        next_row = 1
        # The next batch is read and made model rows on a thread while this one is scored.
        prepared = ((batch, *model_rows(bundle, batch)) for batch in batches)
        for batch, features, reasons in _read_ahead(prepared):
            # Arrow has set aside a batch's bad lines by the time it hands the batch over.
            _set_aside(malformed, skipped, rejected)
            numbers = _row_numbers(next_row, batch.num_rows, skipped)
            next_row = int(numbers[-1]) + 1 if len(numbers) else next_row
            keep = np.ones(batch.num_rows, dtype=bool)
            if reasons:
                keep[list(reasons)] = False
                rejected.write(_rejected_rows(batch, reasons, numbers))
                batch, features = batch.filter(pa.array(keep)), features[keep]
            if batch.num_rows:
                outputs = arrow_answers(bundle, features, added)
                writes = [partial(_write_answers, output, batch, outputs)]
{%- if cookiecutter is at_level(4) %}
                if log is not None:
                    writes.append(partial(log.write, numbers[keep], batch, features, outputs))
{%- endif %}
                behind.submit(*writes)
        _set_aside(malformed, skipped, rejected)
        behind.wait()
        # Without a rejected row, a rejected file an earlier run left is removed.
        rejected.finish()
        if output.rows == 0 and rejected.rows:
            raise DataError(
                f"No row of {input_path} could be scored: the {rejected.rows} rows and why "
                f"are in {rejected_path}."
            )
        output.finish()
    return BatchResult(output.rows, rejected.rows, rejected_path)


def open_table(
    path: Path, batch_rows: int, malformed: list[tuple[int | None, str]] | None = None
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The schema of the table in ``path`` and an iterator over its batches of rows.

    A CSV line with more or fewer fields than the header is skipped, and its row number
    (None if Arrow cannot tell) and the reason appended to ``malformed``; without it, such a
    line stops the reading.
    """
    kind = table_format(path)
    if not path.is_file():
        raise DataError(f"No file at {path}: check the path.")
    try:
        if kind == "CSV":
            reader = _open_csv(path, batch_rows, malformed)
            return reader.schema, _unreadable_as_data_error(reader, path, kind)
        if kind == "Parquet":
            # Text columns are read as dictionaries, as Parquet stores them: each distinct
            # value once per row group, not once per row (categories have few). They are
            # written back as the text they were (_write_answers), the file's own schema.
            # Not large_string columns (pandas writes its text so): measured on 10 million
            # rows, casting those back cost more than reading them as dictionaries saved.
            schema = pq.read_schema(path)
            text = [field.name for field in schema if pa.types.is_string(field.type)]
            parquet = pq.ParquetFile(path, read_dictionary=text)
            batches = parquet.iter_batches(batch_size=batch_rows)
            return schema, _unreadable_as_data_error(batches, path, kind)
        # Memory-mapped: the operating system pages the file in as batches are sliced.
        arrow = pa.ipc.open_file(pa.memory_map(str(path)))
        slices = (
            part
            for index in range(arrow.num_record_batches)
            for part in _slices(arrow.get_batch(index), batch_rows)
        )
        return arrow.schema, _unreadable_as_data_error(slices, path, kind)
    except (pa.ArrowException, OSError) as error:
        raise DataError(f"{path} is not a readable {kind} file: {error}") from error


def _open_csv(
    path: Path, batch_rows: int, malformed: list[tuple[int | None, str]] | None
) -> pacsv.CSVStreamingReader:
    with path.open("rb") as file:
        first_line = file.readline()
        sample = file.read(CSV_SAMPLE_BYTES)
    if not first_line.strip():
        raise DataError(f"{path} is empty: a CSV file starts with a line of column names.")
    header = next(csv.reader([first_line.decode("utf-8-sig", errors="replace")]))
    # Every column is read as text. The model's numbers are parsed for the model only
    # (model_rows), so a cell that is not a number rejects its row, not the file; and
    # every column is written back as it came ("007" stays "007", not 7).
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
    )
    # Arrow reads blocks of bytes: a block of about batch_rows lines.
    line_bytes = len(sample) / max(1, sample.count(b"\n"))
    # One parsing thread: Arrow knows a bad line's number only then, and the next block is
    # parsed while this one is scored anyway (_read_ahead).
    block_size = max(2**20, int(line_bytes * batch_rows))
    read = pacsv.ReadOptions(block_size=block_size, use_threads=False)
    parse = pacsv.ParseOptions()
    if malformed is not None:

        def set_aside(row: pacsv.InvalidRow) -> str:
            # The header is line 1, so the line's row number is one less.
            number = None if row.number is None else row.number - 1
            text = row.text if len(row.text) <= 80 else row.text[:80] + "..."
            fields = f"{row.actual_columns} fields, the header has {row.expected_columns}"
            malformed.append((number, f"{fields}: {text!r}"))
            return "skip"

        parse = pacsv.ParseOptions(invalid_row_handler=set_aside)
    return pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)


def _slices(batch: pa.RecordBatch, rows: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, batch.num_rows, rows):
        yield batch.slice(start, rows)


def _unreadable_as_data_error(
    batches: Iterator[pa.RecordBatch], path: Path, kind: str
) -> Iterator[pa.RecordBatch]:
    try:
        yield from batches
    except pa.ArrowException as error:
        raise DataError(f"{path} is not a readable {kind} file: {error}") from error


def _read_ahead(items: Iterator[Prepared]) -> Iterator[Prepared]:
    """``items``, the next one made on a thread while the caller works on this one: Arrow
    reads and decodes without the GIL, so reading overlaps scoring."""
    with ThreadPoolExecutor(max_workers=1) as reader:
        ahead = reader.submit(next, items, None)
        while (item := ahead.result()) is not None:
            ahead = reader.submit(next, items, None)
            yield item


def _write_answers(output: _Writer, batch: pa.RecordBatch, outputs: dict[str, pa.Array]) -> None:
    """Write the batch's rows, each column of the input's type, with the model's answers as
    the output's last columns."""
    fields = list(output.schema)
    given = [
        column if column.type == field.type else column.cast(field.type)
        for column, field in zip(batch.columns, fields, strict=False)
    ]
    added = [outputs[field.name] for field in fields[len(given) :]]
    output.write(pa.RecordBatch.from_arrays([*given, *added], schema=output.schema))


class _WriteBehind:
    """Runs each batch's writes on a thread while the caller scores the next batch: Arrow
    encodes and writes without the GIL. One batch at a time, in order, so memory holds one
    batch being written; ``wait`` (and the next ``submit``) raise a write's error."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1)
        self._pending: Future[None] | None = None

    def submit(self, *writes: Callable[[], None]) -> None:
        self.wait()
        self._pending = self._thread.submit(_run_all, writes)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> _WriteBehind:
        return self

    def __exit__(self, *_: object) -> None:
        self._thread.shutdown(wait=True)


def _run_all(calls: tuple[Callable[[], None], ...]) -> None:
    for call in calls:
        call()


def output_fields(bundle: ModelBundle) -> list[pa.Field]:
    """The columns scoring adds: ``prediction``, and a classifier's probabilities."""
    if bundle.task != "classification":
        return [pa.field("prediction", pa.float64())]
    classes = bundle.pipeline.classes_
    return [
        pa.field("prediction", pa.array(classes).type),
        *(pa.field(f"probability_{label}", pa.float64()) for label in classes),
    ]


def arrow_answers(
    bundle: ModelBundle, features: pd.DataFrame, fields: list[pa.Field]
) -> dict[str, pa.Array]:
    """The model's answers for ``features`` as Arrow columns of the ``fields`` that
    ``output_fields`` gives (score.answers as Arrow)."""
    if bundle.task != "classification":
        (prediction,) = fields
        return {prediction.name: pa.array(bundle.pipeline.predict(features), prediction.type)}
    predicted, probabilities = class_probabilities(bundle, features)
    prediction, *probability = fields
    # The predicted labels taken by index from the classes, in Arrow: built from numpy's
    # objects instead, one Python string at a time, they cost about 8 times as much, with
    # the GIL held that the scoring thread needs (the output and the level-4 log both
    # wrote them so).
    labels = pa.array(bundle.pipeline.classes_, prediction.type)
    columns = {prediction.name: labels.take(pa.array(predicted))}
    for index, field in enumerate(probability):
        columns[field.name] = pa.array(probabilities[:, index], field.type)
    return columns


def model_rows(bundle: ModelBundle, batch: pa.RecordBatch) -> tuple[pd.DataFrame, dict[int, str]]:
    """The batch's features as the model takes them (numbers as floats, categories as text,
    NaN for missing), and why each row the model cannot take is refused, by its index."""
    problems: defaultdict[int, list[str]] = defaultdict(list)
    columns: dict[str, NDArray[Any]] = {}
    no_feature = np.ones(batch.num_rows, dtype=bool)
    for name in bundle.features:
        column = batch.column(name)
        if name not in bundle.numeric_features:
            columns[name] = _categories(column)
            no_feature &= column.is_null().to_numpy(zero_copy_only=False)
            continue
        numbers, unreadable = _numbers(column)
        no_feature &= np.isnan(numbers)
        for index in np.flatnonzero(unreadable):
            problems[int(index)].append(f"{name}: {column[index].as_py()!r} is not a number")
        for index in np.flatnonzero(np.isinf(numbers)):
            problems[int(index)].append(f"{name}: {column[index].as_py()!r} is infinite")
        columns[name] = numbers
    # Categories stay numpy objects: pandas would store them as Arrow strings, which
    # scikit-learn turns back into objects, row by row, in each of its steps. No copies:
    # the arrays are this batch's own.
    features = pd.DataFrame(
        {
            name: pd.Series(values, dtype=values.dtype, copy=False)
            for name, values in columns.items()
        },
        copy=False,
    )
    # The imputers would answer a row with no feature from training's means and modes
    # alone: an answer about nothing (the service refuses such rows too).
    for index in np.flatnonzero(no_feature):
        problems[int(index)].append("every feature is missing")
    return features, {index: "; ".join(reasons) for index, reasons in problems.items()}


def _numbers(column: pa.Array) -> tuple[NDArray[Any], NDArray[Any]]:
    """The column as floats (NaN for missing), and where a value is there but no number."""
    try:
        numbers = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        return numbers, np.zeros(len(numbers), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Some value is no number: parse them one by one, the unreadable ones as missing.
        values = pd.Series(column.to_pylist(), dtype=object)
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        return numbers, values.notna().to_numpy() & np.isnan(numbers)


def _categories(column: pa.Array) -> NDArray[Any]:
    """The column as text with NaN for missing, as training read it. Through a dictionary:
    a category's string is made once, not once per row."""
    if pa.types.is_dictionary(column.type):
        encoded = column.cast(pa.dictionary(column.type.index_type, pa.string()))
    else:
        encoded = pc.dictionary_encode(pc.cast(column, pa.string()))
    names = np.array([*encoded.dictionary.to_pylist(), np.nan], dtype=object)
    # A missing value has no index: it takes the last entry, NaN.
    indices = encoded.indices.fill_null(len(names) - 1).to_numpy()
    categories: NDArray[Any] = names[indices]
    return categories


def _set_aside(
    malformed: list[tuple[int | None, str]], skipped: set[int], rejected: _Writer
) -> None:
    """Write the CSV lines set aside since the last call, and why, to the rejected rows
    (their fields unknown), and note their row numbers in ``skipped``."""
    lines = [malformed.pop(0) for _ in range(len(malformed))]
    if not lines:
        return
    skipped.update(number for number, _ in lines if number is not None)
    rejected.write(
        pa.RecordBatch.from_arrays(
            [
                pa.array([number for number, _ in lines], type=pa.int64()),
                pa.array([reason for _, reason in lines], type=pa.string()),
                *(pa.nulls(len(lines), pa.string()) for _ in rejected.schema.names[2:]),
            ],
            schema=rejected.schema,
        )
    )


def _row_numbers(start: int, count: int, skipped: set[int]) -> NDArray[Any]:
    """The input's row numbers (1 is the first row) of ``count`` rows read from row
    ``start`` on, stepping over the ``skipped`` ones."""
    ahead = [number for number in skipped if number >= start]
    numbers: NDArray[Any] = np.arange(start, start + count + len(ahead))
    if ahead:
        numbers = numbers[~np.isin(numbers, ahead)]
    return numbers[:count]


def _rejected_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [
            pa.field("row", pa.int64()),
            pa.field("reason", pa.string()),
            *(pa.field(name, pa.string()) for name in schema.names),
        ]
    )


def _rejected_rows(
    batch: pa.RecordBatch, reasons: dict[int, str], numbers: NDArray[Any]
) -> pa.RecordBatch:
    """The refused rows as text, with their row number in the input (1 is the first row
    after the header) and the reason."""
    indices = pa.array(sorted(reasons), type=pa.int64())
    rows = batch.take(indices)
    return pa.RecordBatch.from_arrays(
        [
            pa.array(numbers[indices.to_numpy()], type=pa.int64()),
            pa.array([reasons[index] for index in indices.to_pylist()], type=pa.string()),
            *(pc.cast(column, pa.string()) for column in rows.columns),
        ],
        names=["row", "reason", *batch.schema.names],
    )


class _Writer:
    """Batches written to ``path`` in its suffix's format, under a temporary name until
    ``finish``: a run that fails or is interrupted leaves no half file where output belongs.
    """

    def __init__(self, path: Path, schema: pa.Schema, *, empty_file: bool = False) -> None:
        self.path = path
        self.schema = schema
        self.rows = 0
        # Whether a run with no row writes a file (of column names only) or none.
        self._empty_file = empty_file
        self._partial = path.with_name(f".{path.name}.partial")
        self._format = table_format(path)
        self._sink: Any = None
        self._finished = False

    def write(self, batch: pa.RecordBatch) -> None:
        if self._sink is None:
            self._sink = self._open()
        self._sink.write(batch)
        self.rows += batch.num_rows

    def finish(self) -> None:
        """Put the file in place of any older one at ``path``, or remove that one when
        this run has no row for it and no empty file is wanted."""
        self._finished = True
        if self._sink is None and not self._empty_file:
            self.path.unlink(missing_ok=True)
            return
        if self._sink is None:
            self._sink = self._open()
        self._sink.close()
        self._partial.replace(self.path)

    def _open(self) -> Any:
        if self._format == "CSV":
            return pacsv.CSVWriter(self._partial, self.schema)
        if self._format == "Parquet":
            return pq.ParquetWriter(self._partial, self.schema)
        return pa.ipc.new_file(self._partial, self.schema)

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *_: object) -> None:
        if not self._finished:
            if self._sink is not None:
                self._sink.close()
            self._partial.unlink(missing_ok=True)
