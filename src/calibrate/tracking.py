"""Track every fit and suggestion as an MLflow run; register suggested frameworks.

This is the only module that imports :mod:`mlflow` (inside the functions that use it, so
``import calibrate.tracking`` stays fast).

Where runs go
-------------
The tracking URI is, first found: the ``uri`` argument of :class:`Tracker`, the
``MLFLOW_TRACKING_URI`` environment variable, or :func:`default_tracking_uri` — an embedded SQLite
store ``sqlite:///<cwd>/mlflow.db``. For a SQLite file store, artifacts go beside the database in
``<folder of the .db>/mlartifacts/<experiment>/<run_id>/artifacts``; other stores (an MLflow server,
PostgreSQL …) keep their own artifact location. Browse the default store from the project folder
with ``mlflow ui --backend-store-uri sqlite:///mlflow.db``.

What a run holds
----------------
* **params** — framework id, version and fingerprint (suggested and base), target, horizon,
  objective, solver, seed, bootstrap samples, train and test years, data and events fingerprints,
  constraints (compact JSON), label counts; for a fit, the model class and its constructor
  arguments (``model.<name>``) and the training years of every split (``train_years.<year>``).
* **tags** — ``calibrate.version``, ``calibrate.command``, ``calibrate.kind`` (``suggestion`` /
  ``fit``), ``calibrate.base_framework``, ``calibrate.target``, the package versions of
  :func:`package_versions` as ``version.<package>``, and a readable ``mlflow.note.content``.
* **metrics** — per held-out year as the metric's *step* (``step = 2023``), so MLflow draws each
  metric against the year: a suggestion logs ``current.<metric>`` and ``suggested.<metric>``
  (today's and the suggested framework), a fit logs ``<metric>``. Summaries over all held-out
  years have step 0 and a prefix: ``pooled.current.<metric>`` / ``pooled.suggested.<metric>``
  for a suggestion, ``pooled.<metric>`` and ``mean.<metric>`` for a fit. Metrics that are not
  finite (e.g. the AUC of a year with one class) are not logged.
* **artifacts** — ``framework.yaml`` (the suggested framework, byte for byte
  ``Framework.to_yaml()``), ``base_framework.yaml``, ``points.csv``, ``diff.csv``,
  ``heldout_metrics.csv``, ``heldout_metrics_by_year.csv`` (a fit: ``heldout_metrics.csv``,
  ``fit.json`` and ``framework.yaml`` when a framework is given); files passed as
  ``extra_artifacts`` go to ``extra/``, reports attached later to ``report/``.

Registry
--------
:meth:`Tracker.register_framework` turns a run's ``framework.yaml`` into an MLflow *model from
code*: a small Python file (:data:`MODEL_CODE`) plus the YAML as a model artifact; loading runs
that file, which reads the YAML — nothing is pickled or unpickled. The model version gets an alias
(``candidate``, ``adopted`` …); :meth:`Tracker.load_registered_framework` reads the YAML back
into a :class:`~calibrate.framework.Framework`, and ``mlflow.pyfunc.load_model`` gives a model
whose ``predict`` scores an enterprise-year table with the framework.

Failure never fails the caller
------------------------------
Every logging method catches store errors (unwritable folder, bad URI, server down), emits a
:class:`TrackingWarning` naming the URI and the error, and returns ``None``; the caller has
already written its results to disk. A SQLite store is checked before MLflow opens it, because
MLflow retries an unopenable database for about 100 seconds.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import platform
import re
import sqlite3
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from calibrate.exceptions import CalibrateError, CalibrateWarning

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

    from calibrate.compare import Comparison
    from calibrate.framework import Framework
    from calibrate.models import FitResult
    from calibrate.suggest import Suggestion

__all__ = [
    "DEFAULT_EXPERIMENT",
    "CommandRun",
    "MODEL_CODE",
    "PACKAGES",
    "TrackedRun",
    "Tracker",
    "TrackingError",
    "TrackingWarning",
    "default_tracking_uri",
    "log_comparison",
    "log_fit",
    "log_suggestion",
    "package_versions",
    "schema_lock",
]

DEFAULT_EXPERIMENT = "calibrate"
DB_NAME = "mlflow.db"
ARTIFACTS_DIR = "mlartifacts"
PACKAGES = ("calibrate", "numpy", "pandas", "scikit-learn", "lightgbm", "optuna", "mlflow")
FRAMEWORK_ARTIFACT = "framework.yaml"
MODEL_ARTIFACT_KEY = "framework"  # key of the YAML in the pyfunc model's ``artifacts``
MODEL_TYPE = "calibrate-framework"
_HEALTH_TIMEOUT = 3.0  # seconds to wait for an MLflow server's /health before giving up
_HTTP_BOUNDS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "10", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2"}

# --- messages (constants so tests compare them exactly) -------------------------------------

MSG_UNAVAILABLE = (
    "MLflow tracking failed for {uri}: {error}. Nothing else is affected, but this {what} is not "
    "tracked; check the tracking URI (the argument or MLFLOW_TRACKING_URI) and that its folder "
    "is writable"
)
MSG_MISSING_EXTRA = "extra artifact {path} does not exist and was not logged; check the path"
MSG_DISABLED = "tracking is disabled (Tracker(enabled=False)); nothing to load from {uri}"
MSG_NO_ALIAS = (
    "no registered framework {name!r} with alias {alias!r} in {uri}: {error}; register one with "
    "Tracker.register_framework(run_id, {name!r}, alias={alias!r})"
)
MSG_PARAM_CLASH = "params {keys} are logged by calibrate itself; give them other names"
MSG_PARAM_CHANGED = (
    "param {key!r} was logged as {old!r} and cannot change to {new!r} in the same run; "
    "the first value is kept"
)

# A model from code: MLflow copies this file into the model and runs it at load time. It reads
# the framework YAML logged beside it; nothing is pickled.
MODEL_CODE = '''\
"""calibrate points framework as an MLflow model from code (written by calibrate.tracking).

Loading runs this file, which reads the framework YAML stored as the model artifact
"framework"; nothing is unpickled. predict() scores an enterprise-year table with the framework
and returns the scores table (calibrate.scoring.score(...).frame).
"""

import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel


class FrameworkModel(PythonModel):
    """A calibrate framework read from YAML; predict() scores enterprise-year rows."""

    def load_context(self, context):
        from calibrate.framework import Framework

        self.framework = Framework.load(context.artifacts["framework"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from calibrate.scoring import score

        return score(self.framework, model_input).frame


set_model(FrameworkModel())
'''


class TrackingWarning(CalibrateWarning):
    """MLflow tracking failed or was incomplete; the run's results are unaffected."""


class TrackingError(CalibrateError, LookupError):
    """A registered framework could not be found or read back."""


# --- helpers without mlflow -----------------------------------------------------------------


def default_tracking_uri(root: str | Path | None = None) -> str:
    """The embedded SQLite store of a project: ``sqlite:///<root>/mlflow.db``.

    Parameters
    ----------
    root : str or Path, optional
        Project folder; default the current working directory. Made absolute.

    Returns
    -------
    str
        A SQLAlchemy SQLite URI with an absolute path (four slashes on POSIX).
    """
    folder = Path(root) if root is not None else Path.cwd()
    return f"sqlite:///{(folder.resolve() / DB_NAME).as_posix()}"


def package_versions() -> dict[str, str]:
    """Versions of calibrate, its modelling stack and Python (``"not installed"`` if absent).

    Returns
    -------
    dict of str to str
        Keys ``calibrate``, ``numpy``, ``pandas``, ``scikit-learn``, ``lightgbm``, ``optuna``,
        ``mlflow`` and ``python``.
    """
    out: dict[str, str] = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    out["python"] = platform.python_version()
    return out


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:`` URI (``None`` for other URIs and in-memory stores)."""
    if not uri.startswith("sqlite:"):
        return None
    rest = uri.removeprefix("sqlite:").split("?", 1)[0]
    if not rest.startswith("///"):
        return None  # ``sqlite://`` is in memory
    path = rest[3:]
    if path in ("", ":memory:"):
        return None
    return Path(path)


def _check_sqlite(path: Path) -> None:
    """Raise ``OSError`` / ``sqlite3.Error`` unless the database can be created and written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None)  # opens read-write, creates
    try:
        conn.execute("BEGIN IMMEDIATE")  # takes the write lock: fails on a read-only database
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def _check_server(uri: str) -> None:
    """Raise ``OSError`` unless an MLflow server answers (any HTTP status counts as an answer)."""
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=_HEALTH_TIMEOUT):
            pass
    except urllib.error.HTTPError:
        return


def _is_database(uri: str) -> bool:
    """Whether ``uri`` is a SQLAlchemy URI of a database server (PostgreSQL, MySQL …)."""
    return uri.split(":", 1)[0].split("+", 1)[0] in {"postgresql", "mysql", "mssql"}


def _bounded(uri: str) -> str:
    """A PostgreSQL URI with ``connect_timeout`` set, so a store that hangs is given up."""
    if not uri.startswith("postgresql") or "connect_timeout=" in uri:
        return uri
    return f"{uri}{'&' if '?' in uri else '?'}connect_timeout={int(_HEALTH_TIMEOUT)}"


def _check_database(uri: str) -> None:
    """Raise unless a PostgreSQL store accepts a connection within :data:`_HEALTH_TIMEOUT`.

    MLflow itself retries an unreachable database for about 100 seconds; this answers in three.
    Other databases are left to MLflow.
    """
    if not uri.startswith("postgresql"):
        return
    import psycopg

    with psycopg.connect(_conninfo(uri), connect_timeout=int(_HEALTH_TIMEOUT)):
        pass


_SCHEMA_LOCK = 0x63616C69  # PostgreSQL advisory lock key ("cali") held while creating tables


@contextlib.contextmanager
def schema_lock(uri: str | None) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock while a store creates its tables (no-op elsewhere).

    MLflow and Optuna create their tables on first contact and neither survives two processes
    doing it at once (a duplicate-key error on the new types); workers that start together take
    turns here. Waits at most a minute, then raises like any other store error.
    """
    if uri is None or not uri.startswith("postgresql"):
        yield
        return
    import psycopg

    with psycopg.connect(_conninfo(uri), connect_timeout=int(_HEALTH_TIMEOUT)) as conn:
        conn.autocommit = True
        conn.execute("SET lock_timeout = '60s'")
        conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))


def _conninfo(uri: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URI (driver name dropped)."""
    from sqlalchemy.engine import make_url

    return make_url(uri).set(drivername="postgresql").render_as_string(hide_password=False)


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("_") or "experiment"


def _years(years: Iterable[Any]) -> str:
    return ",".join(str(int(y)) for y in years)


def _text(value: Any, limit: int = 6000) -> str:
    """A param value as text, within MLflow's length limit."""
    text = (
        value
        if isinstance(value, str)
        else json.dumps(
            value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
        )
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _key(name: str) -> str:
    """A param or metric name MLflow accepts: other characters become ``_``."""
    return re.sub(r"[^\w.\- :/]", "_", name)


def _finite(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


class _DropSignatureNotice(logging.Filter):
    """Drops MLflow's log line that a ``pd.DataFrame`` type hint cannot give a signature."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to infer model signature")


@contextlib.contextmanager
def _mlflow_quiet() -> Iterator[None]:
    """Silence the named, harmless third-party notices MLflow emits; nothing else."""
    notice = _DropSignatureNotice()
    logger = logging.getLogger("mlflow.pyfunc")
    logger.addFilter(notice)
    # "Creating initial MLflow database tables…" and alembic's migration steps are INFO lines
    # printed on a user's first run; they say nothing the user must act on.
    chatty = [
        logging.getLogger(name) for name in ("mlflow.store.db.utils", "alembic.runtime.migration")
    ]
    levels = [c.level for c in chatty]
    for c in chatty:
        c.setLevel(logging.WARNING)
    # no download bars on stderr; and a server that hangs is given up in seconds, not MLflow's
    # default 120 s per request times 7 retries with back-off (the user's own settings win)
    settings = {
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        **{k: v for k, v in _HTTP_BOUNDS.items() if k not in os.environ},
    }
    saved = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)
    try:
        with warnings.catch_warnings():
            # MLflow's own ORM models use SQLAlchemy's ``noload``, deprecated in SQLAlchemy 2.1;
            # raised once when MLflow's SQL store is first imported, nothing the caller can fix.
            warnings.filterwarnings(
                "ignore",
                message=r"The ``noload`` loader strategy is deprecated",
                category=DeprecationWarning,
            )
            # ``import mlflow.pyfunc`` builds MLflow's own ResponsesAgent schema, whose ``Any``
            # fields each warn once (message wrapped in terminal colour codes); not about our model.
            warnings.filterwarnings(
                "ignore", message=r".*Any type hint is inferred as AnyType", category=UserWarning
            )
            yield
    finally:
        logger.removeFilter(notice)
        for c, level in zip(chatty, levels, strict=True):
            c.setLevel(level)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --- result ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackedRun:
    """Where a logged run lives.

    Attributes
    ----------
    run_id, run_name, experiment_id : str
    uri : str
        Tracking URI of the store.
    artifact_uri : str
        Root of the run's artifacts (a local path for the default SQLite store).
    artifacts : tuple of str
        Logged artifact paths, relative to ``artifact_uri`` (e.g. ``framework.yaml``).
    """

    run_id: str
    run_name: str
    experiment_id: str
    uri: str
    artifact_uri: str
    artifacts: tuple[str, ...]

    def artifact(self, path: str) -> str:
        """Full URI (or local path) of one logged artifact."""
        return f"{self.artifact_uri.rstrip('/')}/{path}"


# --- one run per command --------------------------------------------------------------------


class CommandRun:
    """The MLflow run of one command, open while the command works.

    Made by :meth:`Tracker.command_run`; log into it as results appear. Every method is a no-op
    once tracking is disabled or has failed: the first store error becomes one
    :class:`TrackingWarning` and the run stops talking to the store, so a store that is down or
    hangs costs at most one bounded wait, and the command's results (already on disk) stand.

    Params are logged once: logging the same name again with the same value does nothing, with
    another value warns. A metric is logged once per ``(name, step)``.
    """

    def __init__(self, tracker: Tracker, command: str, run_name: str) -> None:
        self.tracker = tracker
        self.command = command
        self.run_name = run_name
        self.run_id: str | None = None
        self.experiment_id: str | None = None
        self.artifact_uri = ""
        self.model_id: str | None = None
        self.failed = False
        self.artifacts: list[str] = []
        self._params: dict[str, str] = {}
        self._metrics: set[tuple[str, int]] = set()
        self._error = ""

    @property
    def active(self) -> bool:
        """Whether logging calls still reach the store."""
        return self.run_id is not None and not self.failed

    def __repr__(self) -> str:
        state = "active" if self.active else "inactive"
        return f"CommandRun({self.command!r}, run_id={self.run_id!r}, {state})"

    @contextlib.contextmanager
    def _store(self, what: str) -> Iterator[MlflowClient | None]:
        """The client, or ``None`` when inactive; a store error disables the run with a warning."""
        if not self.active:
            yield None
            return
        try:
            with _mlflow_quiet():
                yield self.tracker.client
        except Exception as exc:  # tracking must never fail the command
            self.failed = True
            self._error = f"{what}: {_describe(exc)}"
            self.tracker._warn(exc, f"{self.command} run")

    def start(self, tags: Mapping[str, Any], parent_run_id: str | None = None) -> None:
        """Create the run (called by :meth:`Tracker.command_run`)."""
        if not self.tracker.enabled:
            return
        try:
            with _mlflow_quiet():
                client = self.tracker.client
                self.experiment_id = self.tracker.experiment_id()
                versions = package_versions()
                all_tags = {
                    "calibrate.version": versions["calibrate"],
                    "calibrate.command": self.command,
                    **{f"version.{k}": v for k, v in versions.items()},
                    **tags,
                }
                if parent_run_id:
                    all_tags["mlflow.parentRunId"] = parent_run_id
                run = client.create_run(
                    self.experiment_id,
                    run_name=self.run_name,
                    tags={k: _text(v, 5000) for k, v in all_tags.items()},
                )
                self.run_id = run.info.run_id
                self.artifact_uri = run.info.artifact_uri or ""
        except Exception as exc:  # tracking must never fail the command
            self.failed = True
            self.tracker._warn(exc, f"{self.command} run")

    def end(self, error: BaseException | None = None) -> None:
        """Mark the run FINISHED, or FAILED with the reason (store or command error)."""
        if self.run_id is None:
            return
        reason = _describe(error) if error is not None else None
        if self.failed:  # one last, bounded attempt to leave a truthful status behind
            with contextlib.suppress(Exception), _mlflow_quiet():
                last = self.tracker.client
                last.set_tag(self.run_id, "calibrate.tracking_error", _text(self._error, 5000))
                last.set_terminated(self.run_id, "FAILED")
            return
        with self._store("end") as client:
            if client is not None:
                if reason is not None:
                    client.set_tag(self.run_id, "calibrate.error", _text(reason, 5000))
                client.set_terminated(self.run_id, "FAILED" if reason else "FINISHED")

    def result(self) -> TrackedRun | None:
        """Where the run lives; ``None`` if it was never created or logging failed."""
        if not self.active or self.run_id is None or self.experiment_id is None:
            return None
        return TrackedRun(
            run_id=self.run_id,
            run_name=self.run_name,
            experiment_id=self.experiment_id,
            uri=self.tracker.uri,
            artifact_uri=self.artifact_uri,
            artifacts=tuple(self.artifacts),
        )

    # -- what a run holds -----------------------------------------------------------------------

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log params once (same name and value again: nothing; another value: a warning)."""
        new: dict[str, str] = {}
        for name, value in params.items():
            key, text = _key(name), _text(value)
            if key in self._params:
                if self._params[key] != text:
                    warnings.warn(
                        MSG_PARAM_CHANGED.format(key=key, old=self._params[key], new=text),
                        TrackingWarning,
                        stacklevel=2,
                    )
                continue
            new[key] = text
        with self._store("params") as client:
            if client is not None and new and self.run_id is not None:
                from mlflow.entities import Param

                items = [Param(k, v) for k, v in new.items()]
                for i in range(0, len(items), 100):
                    client.log_batch(self.run_id, params=items[i : i + 100])
                self._params.update(new)

    def log_metrics(self, metrics: Iterable[tuple[str, Any, int]]) -> None:
        """Log ``(name, value, step)`` triples; non-finite values and repeats are skipped."""
        todo: list[tuple[str, float, int]] = []
        for name, raw, step in metrics:
            key, value = _key(name), _finite(raw)
            if value is not None and (key, int(step)) not in self._metrics:
                self._metrics.add((key, int(step)))
                todo.append((key, value, int(step)))
        with self._store("metrics") as client:
            if client is not None and todo and self.run_id is not None:
                from mlflow.entities import Metric

                now = int(time.time() * 1000)
                items = [Metric(k, v, now, s) for k, v, s in todo]
                for i in range(0, len(items), 1000):
                    client.log_batch(self.run_id, metrics=items[i : i + 1000])

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set (or overwrite) tags."""
        with self._store("tags") as client:
            if client is not None and tags and self.run_id is not None:
                from mlflow.entities import RunTag

                client.log_batch(
                    self.run_id, tags=[RunTag(k, _text(v, 5000)) for k, v in tags.items()]
                )

    def log_dataset(
        self,
        name: str,
        *,
        fingerprint: str,
        rows: int,
        source: str,
        columns: Sequence[str] = (),
        context: str = "training",
    ) -> None:
        """Log an input table as an MLflow dataset: its fingerprint (digest), rows and source.

        Parameters
        ----------
        name : str
            e.g. ``enterprises`` or ``events``.
        fingerprint : str
            :func:`calibrate.data.fingerprint` of the table (the dataset's digest).
        rows : int
        source : str
            Path or description of where the table came from.
        columns : sequence of str
            Column names, kept as the dataset's schema.
        context : str
            MLflow's ``mlflow.data.context`` tag (``training``, ``evaluation`` …).
        """
        with self._store("dataset") as client:
            if client is not None and self.run_id is not None:
                from mlflow.entities import Dataset, DatasetInput, InputTag

                schema = json.dumps({"columns": list(columns)}, ensure_ascii=False)
                profile = json.dumps({"num_rows": int(rows), "fingerprint": fingerprint})
                dataset = Dataset(name, fingerprint[:36], "local", source[:1000], schema, profile)
                tag = InputTag("mlflow.data.context", context)
                client.log_inputs(self.run_id, [DatasetInput(dataset, [tag])])

    def log_text(self, text: str, path: str) -> None:
        """Write ``text`` (UTF-8) as the artifact ``path`` (e.g. ``warnings.txt``)."""
        self._log_files({path: text.encode("utf-8")})

    def log_table(self, frame: pd.DataFrame, path: str, *, index: bool = False) -> None:
        """Write a table as a UTF-8 CSV artifact ``path``."""
        self._log_files({path: frame.to_csv(index=index, lineterminator="\n").encode("utf-8")})

    def log_artifacts(self, paths: Iterable[str | Path], artifact_dir: str = "extra") -> None:
        """Attach existing files or folders under ``artifact_dir``; a missing path warns."""
        found: list[Path] = []
        for item in paths:
            p = Path(item)
            if p.exists():
                found.append(p)
            else:
                warnings.warn(MSG_MISSING_EXTRA.format(path=p), TrackingWarning, stacklevel=2)
        with self._store("artifacts") as client:
            if client is not None and self.run_id is not None:
                for p in found:
                    if p.is_dir():
                        client.log_artifacts(self.run_id, str(p), f"{artifact_dir}/{p.name}")
                    else:
                        client.log_artifact(self.run_id, str(p), artifact_dir)
                    self.artifacts.append(f"{artifact_dir}/{p.name}")

    def _log_files(self, files: Mapping[str, bytes]) -> None:
        with self._store("artifacts") as client:
            if client is not None and self.run_id is not None:
                with tempfile.TemporaryDirectory(prefix="calibrate-run-") as tmp:
                    for rel, data in files.items():
                        target = Path(tmp) / rel
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(data)
                    client.log_artifacts(self.run_id, tmp)
                self.artifacts.extend(files)

    def log_framework_model(self, framework: Framework, name: str | None = None) -> str | None:
        """Log ``framework`` as an MLflow model from code (a pyfunc that scores a table).

        The model's ``predict`` returns the scores table; nothing is pickled. Register it with
        :meth:`Tracker.register_framework` (``alias="adopted"`` …).

        Returns
        -------
        str or None
            The logged model's id (also the run tag ``calibrate.model_id``).
        """
        with self._store("model") as client:
            if client is not None and self.run_id is not None and self.experiment_id is not None:
                with tempfile.TemporaryDirectory(prefix="calibrate-model-") as tmp:
                    path = Path(tmp) / FRAMEWORK_ARTIFACT
                    path.write_bytes(framework.to_yaml().encode("utf-8"))
                    model = _log_framework_model(
                        client,
                        self.experiment_id,
                        self.run_id,
                        path,
                        name or framework.id,
                        Path(tmp),
                    )
                self.model_id = model.model_id
                client.set_tag(self.run_id, "calibrate.model_id", model.model_id)
        return self.model_id


def log_suggestion(run: CommandRun, suggestion: Suggestion) -> None:
    """Log a suggestion into the command's run: params, metrics, tables, warnings, the model.

    * params: frameworks (ids, versions, fingerprints), target, horizon, objective, solver,
      seed, bootstrap samples, years, data and events fingerprints, constraints, label counts;
    * metrics: held-out ``pooled.current.<metric>`` / ``pooled.suggested.<metric>`` (step 0) and
      ``current.<metric>`` / ``suggested.<metric>`` per held-out year (step = year), metric names
      as :mod:`calibrate.metrics` gives them; for an edit path (``calibration["edits"]``)
      ``edit.train.<metric>`` and ``edit.held_out.<metric>`` with one step per edit;
    * artifacts: ``framework.yaml``, ``base_framework.yaml``, ``points.csv``, ``diff.csv``,
      ``heldout_metrics.csv``, ``heldout_metrics_by_year.csv``, ``edits.csv`` (and
      ``edit_points.csv``: points after each edit) and ``directions.csv`` when the calibration
      block has them, ``warnings.txt`` when there are warnings;
    * the suggested framework as a model from code (:meth:`CommandRun.log_framework_model`).
    """
    s = suggestion
    calibration: Mapping[str, Any] = s.framework.calibration or {}
    run.log_params(_suggestion_params(s, calibration))
    run.log_metrics(Tracker._suggestion_metrics(s))
    edits = calibration.get("edits") or []
    run.log_metrics(_edit_metrics(edits))
    run.set_tags(
        {
            "calibrate.kind": "suggestion",
            "calibrate.base_framework": s.base.id,
            "calibrate.target": s.target,
            "mlflow.note.content": _suggestion_note(s),
        }
    )
    run._log_files(_suggestion_files(s, calibration))
    run.log_framework_model(s.framework)


def _suggestion_params(s: Suggestion, calibration: Mapping[str, Any]) -> dict[str, Any]:
    fw, base = s.framework, s.base
    params: dict[str, Any] = {
        "framework_id": fw.id,
        "framework_version": fw.version,
        "framework_fingerprint": fw.fingerprint,
        "base_framework_id": base.id,
        "base_framework_version": base.version,
        "base_framework_fingerprint": base.fingerprint,
        "target": s.target,
        "horizon": s.horizon,
        "objective": s.objective,
        "solver": s.solver,
        "seed": s.seed,
        "n_bootstrap": s.n_bootstrap,
        "train_years": _years(s.train_years),
        "test_years": _years(s.test_years),
        "data_fingerprint": s.data_fingerprint,
        "events_fingerprint": calibration.get("events_fingerprint", ""),
        "constraints": s.constraints.to_dict(),
    }
    params.update({f"labels.{k}": v for k, v in sorted(s.label_counts.items())})
    return params


def _suggestion_note(s: Suggestion) -> str:
    note = (
        f"Suggested core points for **{s.base.id}** predicting `{s.target}` within {s.horizon} "
        f"year(s); objective `{s.objective}`, seed {s.seed}, trained on {_years(s.train_years)}, "
        f"held out {_years(s.test_years)}."
    )
    if "auc" in s.metrics.index:
        now, new = (
            _finite(s.metrics.at["auc", "current"]),
            _finite(s.metrics.at["auc", "suggested"]),
        )
        if now is not None and new is not None:
            note += f" Held-out AUC: current {now:.4f} → suggested {new:.4f}."
    return note


def _edit_metrics(edits: Iterable[Mapping[str, Any]]) -> list[tuple[str, Any, int]]:
    """One step per edit of the path: ``edit.train.<metric>`` and ``edit.held_out.<metric>``."""
    out: list[tuple[str, Any, int]] = []
    for i, edit in enumerate(edits):
        step = int(edit.get("step", i))
        for part in ("train", "held_out"):
            for metric, value in (edit.get(part) or {}).items():
                out.append((f"edit.{part}.{metric}", value, step))
    return out


_EDIT_DOCS = ("points", "before", "after")  # per-edit documents kept out of the flat table


def _flat(prefix: str, value: Any, row: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _flat(f"{prefix}.{key}" if prefix else str(key), inner, row)
    elif value is not None:
        row[prefix] = value


def _edits_frame(edits: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The edit path as a flat table: one row per edit, ``train.<m>`` / ``held_out.<m>`` …
    columns (nested mappings joined with dots; the per-edit points and indicator documents are
    left to :func:`_edit_points_frame` and the framework's calibration block)."""
    import pandas as pd

    rows = []
    for edit in edits:
        row: dict[str, Any] = {}
        _flat("", {k: v for k, v in edit.items() if k not in _EDIT_DOCS}, row)
        rows.append(row)
    return pd.DataFrame(rows)


def _edit_points_frame(edits: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Points after each edit, long: ``step, indicator, stage, points``."""
    import pandas as pd

    rows = [
        {"step": edit.get("step", i), "indicator": ind, "stage": stage, "points": value}
        for i, edit in enumerate(edits)
        for ind, stages in (edit.get("points") or {}).items()
        for stage, value in (stages or {}).items()
    ]
    return pd.DataFrame(rows, columns=["step", "indicator", "stage", "points"])


def _suggestion_files(s: Suggestion, calibration: Mapping[str, Any]) -> dict[str, bytes]:
    import pandas as pd

    def csv(frame: pd.DataFrame, index: bool = False) -> bytes:
        return frame.to_csv(index=index, lineterminator="\n").encode("utf-8")

    files = {
        FRAMEWORK_ARTIFACT: s.framework.to_yaml().encode("utf-8"),
        "base_framework.yaml": s.base.to_yaml().encode("utf-8"),
        "points.csv": csv(s.points),
        "diff.csv": csv(s.diff()),
        "heldout_metrics.csv": csv(s.metrics, index=True),
        "heldout_metrics_by_year.csv": csv(s.metrics_by_year),
    }
    if calibration.get("edits"):
        files["edits.csv"] = csv(_edits_frame(calibration["edits"]))
        if any(e.get("points") for e in calibration["edits"]):
            files["edit_points.csv"] = csv(_edit_points_frame(calibration["edits"]))
    directions = calibration.get("directions")
    if directions:
        frame = (
            pd.DataFrame(directions)
            if not isinstance(directions, Mapping)
            else pd.DataFrame(
                {"indicator": list(directions), "direction": list(directions.values())}
            )
        )
        files["directions.csv"] = csv(frame)
    if s.warnings:
        files["warnings.txt"] = ("\n".join(s.warnings) + "\n").encode("utf-8")
    return files


def _fit_params(
    fr: FitResult,
    target: str,
    horizon: int,
    data_fingerprint: str,
    framework: Framework | None,
    seed: int | None,
) -> dict[str, Any]:
    est = fr.estimator
    params: dict[str, Any] = {
        "model": type(est).__name__,
        "target": target,
        "horizon": horizon,
        "data_fingerprint": data_fingerprint,
        "test_years": _years(fr.test_years),
        "fractions": ",".join(f"{f:g}" for f in fr.fractions),
    }
    if seed is not None:
        params["seed"] = seed
    if framework is not None:
        params.update(
            {
                "framework_id": framework.id,
                "framework_version": framework.version,
                "framework_fingerprint": framework.fingerprint,
            }
        )
    if hasattr(est, "get_params"):
        params.update({f"model.{k}": v for k, v in sorted(est.get_params(deep=False).items())})
    params.update({f"train_years.{s.test_year}": _years(s.train_years) for s in fr.splits})
    return params


def log_fit(
    run: CommandRun,
    fit_result: FitResult,
    *,
    target: str,
    horizon: int,
    data_fingerprint: str,
    framework: Framework | None = None,
    seed: int | None = None,
) -> None:
    """Log an out-of-time validation (:class:`~calibrate.models.FitResult`) into a command's run.

    Params: the model class and constructor arguments (``model.<name>``), target, horizon,
    seed, data fingerprint, test years, the training years of every split; metrics per held-out
    year (step = year) and ``pooled.<metric>`` / ``mean.<metric>`` (step 0); artifacts
    ``heldout_metrics.csv``, ``fit.json`` and ``framework.yaml`` when a framework is given.
    """
    fr = fit_result
    est = fr.estimator
    run.log_params(_fit_params(fr, target, horizon, data_fingerprint, framework, seed))
    run.log_metrics(Tracker._fit_metrics(fr))
    note = (
        f"Out-of-time validation of `{type(est).__name__}` for `{target}` within {horizon} "
        f"year(s); held-out years {_years(fr.test_years)}."
    )
    pooled_auc = _finite(fr.overall.loc["pooled", "auc"]) if "auc" in fr.overall.columns else None
    if pooled_auc is not None:
        note += f" Pooled AUC {pooled_auc:.4f}."
    run.set_tags(
        {
            "calibrate.kind": "fit",
            "calibrate.base_framework": framework.id if framework is not None else "",
            "calibrate.target": target,
            "mlflow.note.content": note,
        }
    )
    text = json.dumps(fr.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n"
    files = {
        "heldout_metrics.csv": fr.to_frame().to_csv(lineterminator="\n").encode("utf-8"),
        "fit.json": text.encode("utf-8"),
    }
    if framework is not None:
        files[FRAMEWORK_ARTIFACT] = framework.to_yaml().encode("utf-8")
    run._log_files(files)


def log_comparison(run: CommandRun, comparison: Comparison) -> None:
    """Log a what-if comparison of two frameworks into a command's run.

    Params: both frameworks' ids and fingerprints and the number of firms; metrics
    ``overall.<measure>`` (:attr:`~calibrate.compare.Comparison.overall`) and, with labels,
    ``outcome.base.<metric>`` / ``outcome.candidate.<metric>`` — computed on every labelled year
    the two frameworks rank (not held-out years; the run's note says so).
    """
    c = comparison
    run.log_params(
        {
            "base_framework_id": c.base.id,
            "base_framework_fingerprint": c.base.fingerprint,
            "candidate_framework_id": c.candidate.id,
            "candidate_framework_fingerprint": c.candidate.fingerprint,
            "firms": c.n_firms,
        }
    )
    run.log_metrics((f"overall.{k}", v, 0) for k, v in c.overall.items())
    outcome = c.outcome_metrics
    if outcome is not None:
        for side in ("base", "candidate"):
            run.log_metrics((f"outcome.{side}.{k}", v, 0) for k, v in outcome[side].items())
    run.set_tags(
        {
            "calibrate.kind": "comparison",
            "calibrate.base_framework": c.base.id,
            "mlflow.note.content": (
                f"What-if: **{c.base.id}** → **{c.candidate.id}** on {c.n_firms:,} firm-years. "
                "Outcome metrics use every labelled year both frameworks rank (in-sample, "
                "not held-out)."
            ),
        }
    )


# --- the tracker ----------------------------------------------------------------------------


class Tracker:
    """Log suggestions and fits as MLflow runs; register suggested frameworks with aliases.

    Parameters
    ----------
    uri : str, optional
        Tracking URI. Default: ``MLFLOW_TRACKING_URI`` if set, else :func:`default_tracking_uri`
        (``sqlite:///<cwd>/mlflow.db``). Resolved once, here.
    experiment : str
        MLflow experiment, created on first use.
    enabled : bool
        ``False``: every logging method does nothing and returns ``None`` (MLflow is not
        imported and no file is written).
    artifact_root : str or Path, optional
        Where a new experiment keeps its artifacts. Default: for a SQLite file store,
        ``mlartifacts`` beside the database; otherwise the store's own default.

    Notes
    -----
    Logging methods never raise for store problems: they emit a :class:`TrackingWarning` and
    return ``None``. The tracker talks to MLflow through its own ``MlflowClient``; it never
    changes MLflow's global tracking URI or active run.

    Examples
    --------
    >>> tracker = Tracker()                                    # doctest: +SKIP
    >>> run = tracker.log_suggestion(suggestion)               # doctest: +SKIP
    >>> tracker.register_framework(run.run_id, "longwan-hte")  # doctest: +SKIP
    """

    def __init__(
        self,
        uri: str | None = None,
        experiment: str = DEFAULT_EXPERIMENT,
        *,
        enabled: bool = True,
        artifact_root: str | Path | None = None,
    ) -> None:
        self._uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()
        self.experiment = experiment
        self.enabled = enabled
        if artifact_root is None:
            db = _sqlite_path(self._uri)
            if db is not None:
                artifact_root = db.resolve().parent / ARTIFACTS_DIR
            elif _is_database(self._uri):  # MLflow's own default would be ./mlruns
                artifact_root = Path.cwd().resolve() / ARTIFACTS_DIR
        self.artifact_root: str | None = None if artifact_root is None else str(artifact_root)
        self._client: MlflowClient | None = None
        self._experiment_id: str | None = None

    def __repr__(self) -> str:
        state = "" if self.enabled else ", enabled=False"
        return f"Tracker({self._uri!r}, {self.experiment!r}{state})"

    @property
    def uri(self) -> str:
        """The tracking (and registry) URI this tracker writes to."""
        return self._uri

    @property
    def client(self) -> MlflowClient:
        """An ``MlflowClient`` bound to :attr:`uri` for tracking and registry.

        Raises
        ------
        OSError, sqlite3.Error, mlflow.exceptions.MlflowException
            When the store cannot be opened (the logging methods turn this into a warning).
        """
        if self._client is None:
            db = _sqlite_path(self._uri)
            if db is not None:
                _check_sqlite(db)
            elif self._uri.startswith(("http://", "https://")):
                _check_server(self._uri)
            elif _is_database(self._uri):
                _check_database(self._uri)
            database = _is_database(self._uri)
            with _mlflow_quiet(), schema_lock(self._uri if database else None):
                from mlflow import MlflowClient

                uri = _bounded(self._uri)
                client = MlflowClient(tracking_uri=uri, registry_uri=uri)
                if database:  # the first call creates the tables: one process at a time
                    client.search_experiments(max_results=1)
                self._client = client
        return self._client

    def experiment_id(self) -> str:
        """Id of :attr:`experiment`, created (with its artifact location) if missing."""
        if self._experiment_id is None:
            from mlflow.exceptions import MlflowException

            client = self.client
            with _mlflow_quiet():  # the first access to a SQLite store creates its tables
                found = client.get_experiment_by_name(self.experiment)
            if found is None:
                location = None
                if self.artifact_root is not None:
                    root = str(self.artifact_root)
                    location = (
                        f"{root.rstrip('/')}/{_slug(self.experiment)}"
                        if "://" in root
                        else str(Path(root).resolve() / _slug(self.experiment))
                    )
                try:
                    self._experiment_id = client.create_experiment(
                        self.experiment, artifact_location=location
                    )
                except MlflowException:  # created meanwhile by another process
                    found = client.get_experiment_by_name(self.experiment)
                    if found is None:
                        raise
            if found is not None:
                self._experiment_id = found.experiment_id
        assert self._experiment_id is not None
        return self._experiment_id

    # -- logging -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def command_run(
        self,
        command: str,
        *,
        run_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        parent_run_id: str | None = None,
    ) -> Iterator[CommandRun]:
        """One MLflow run around one command: created on entry, ended on exit.

        The run is ``FINISHED`` when the block ends normally and ``FAILED`` (tag
        ``calibrate.error``) when it raises; the exception propagates. Store problems never
        raise: they warn once (:class:`TrackingWarning`) and the rest of the block runs untracked.

        Parameters
        ----------
        command : str
            ``fit``, ``suggest``, ``compare``, ``report``, ``run``, ``demo`` … (tag
            ``calibrate.command``; default run name).
        run_name : str, optional
        tags : mapping, optional
        parent_run_id : str, optional
            Makes this a child run (an experiment-grid cell).

        Examples
        --------
        >>> with Tracker().command_run("suggest") as run:      # doctest: +SKIP
        ...     result = suggest(...)
        ...     result.save("new.yaml")
        ...     log_suggestion(run, result)
        """
        run = CommandRun(self, command, run_name or command)
        run.start(dict(tags or {}), parent_run_id)
        try:
            yield run
        except BaseException as exc:
            run.end(exc)
            raise
        run.end()

    def log_suggestion(
        self,
        suggestion: Suggestion,
        *,
        run_name: str | None = None,
        extra_artifacts: Iterable[str | Path] = (),
        tags: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        command: str = "suggest",
    ) -> TrackedRun | None:
        """Log a :class:`~calibrate.suggest.Suggestion` as one finished run.

        A run of its own around :func:`log_suggestion` (see there for what it holds).

        Parameters
        ----------
        suggestion : Suggestion
        run_name : str, optional
            Default ``suggest-<base framework>-<target>-h<horizon>-<objective>-seed<seed>``.
        extra_artifacts : iterable of path
            Files (or folders) to attach under ``extra/`` — an importance plot, an HTML report.
        tags : mapping, optional
            More tags; they may override the defaults.
        params : mapping, optional
            More params (e.g. ``n_trials``); names must differ from the ones logged here.
        command : str
            The ``calibrate.command`` tag (e.g. the command line or ``run experiments/x.yaml``).

        Returns
        -------
        TrackedRun or None
            ``None`` when tracking is disabled or failed (a :class:`TrackingWarning` says why).
        """
        s = suggestion
        self._merge_params(_suggestion_params(s, s.framework.calibration or {}), params)
        name = run_name or f"suggest-{s.base.id}-{s.target}-h{s.horizon}-{s.objective}-seed{s.seed}"
        extras = list(extra_artifacts)
        with self.command_run(command, run_name=name) as run:
            log_suggestion(run, s)
            run.log_params(dict(params or {}))
            run.set_tags(dict(tags or {}))
            run.log_artifacts(extras, "extra")
        return run.result()

    def log_edit(
        self,
        framework: Framework,
        base: Framework,
        *,
        extra_artifacts: Iterable[str | Path] = (),
        command: str = "serve",
    ) -> TrackedRun | None:
        """Log a hand-edited framework (a ``calibrate serve`` save) as one finished run.

        Params: both frameworks' id, version and fingerprint; artifacts: ``framework.yaml``,
        ``base_framework.yaml`` and ``extra_artifacts`` (e.g. the comparison workbook) under
        ``extra/``. Returns ``None`` when tracking is disabled or failed.
        """
        logged = {
            "framework_id": framework.id,
            "framework_version": framework.version,
            "framework_fingerprint": framework.fingerprint,
            "base_framework_id": base.id,
            "base_framework_version": base.version,
            "base_framework_fingerprint": base.fingerprint,
        }
        tags = {"calibrate.kind": "edit", "calibrate.base_framework": base.id}
        name = f"{command}-{base.id}-{framework.fingerprint}"
        with self.command_run(command, run_name=name) as run:
            run.log_params(logged)
            run.set_tags(tags)
            run.log_text(framework.to_yaml(), FRAMEWORK_ARTIFACT)
            run.log_text(base.to_yaml(), "base_framework.yaml")
            run.log_artifacts(list(extra_artifacts), "extra")
        return run.result()

    def log_fit(  # noqa: PLR0913 - keyword options of a logged fit, one per MLflow field
        self,
        fit_result: FitResult,
        *,
        target: str,
        horizon: int,
        data_fingerprint: str,
        framework: Framework | None = None,
        seed: int | None = None,
        model: str | None = None,
        run_name: str | None = None,
        extra_artifacts: Iterable[str | Path] = (),
        tags: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        command: str = "fit",
    ) -> TrackedRun | None:
        """Log a :class:`~calibrate.models.FitResult` (out-of-time validation) as one run.

        Parameters
        ----------
        fit_result : FitResult
        target : str
            The outcome event modelled.
        horizon : int
            Label horizon in years.
        data_fingerprint : str
            Fingerprint of the enterprise table (``EnterpriseTable.fingerprint``).
        framework : Framework, optional
            The framework whose points or indicators are the features; logged as
            ``framework.yaml`` with its id and fingerprint.
        seed : int, optional
            Default: the estimator's ``random_state`` when it has one.
        model : str, optional
            Short model name for the run name; default the estimator's class name, lower case.
        run_name : str, optional
            Default ``fit-<framework>-<target>-h<horizon>-<model>[-seed<seed>]``.
        extra_artifacts, tags, params, command
            As in :meth:`log_suggestion`.

        Returns
        -------
        TrackedRun or None
        """
        est = fit_result.estimator
        if seed is None:
            state = getattr(est, "random_state", None)
            seed = state if isinstance(state, int) else None
        own = _fit_params(fit_result, target, horizon, data_fingerprint, framework, seed)
        self._merge_params(own, params)
        fw_id = framework.id if framework is not None else "features"
        name = run_name or (
            f"fit-{fw_id}-{target}-h{horizon}-{model or type(est).__name__.lower()}"
            + (f"-seed{seed}" if seed is not None else "")
        )
        extras = list(extra_artifacts)
        with self.command_run(command, run_name=name) as run:
            log_fit(
                run,
                fit_result,
                target=target,
                horizon=horizon,
                data_fingerprint=data_fingerprint,
                framework=framework,
                seed=seed,
            )
            run.log_params(dict(params or {}))
            run.set_tags(dict(tags or {}))
            run.log_artifacts(extras, "extra")
        return run.result()

    def log_report(
        self, run_id: str, path: str | Path, *, artifact_dir: str = "report"
    ) -> str | None:
        """Attach a report (a file or a folder, e.g. HTML with its images) to an existing run.

        Parameters
        ----------
        run_id : str
        path : str or Path
        artifact_dir : str
            Folder inside the run's artifacts.

        Returns
        -------
        str or None
            The artifact path (``report/report.html``); ``None`` if disabled or it failed.
        """
        if not self.enabled:
            return None
        source = Path(path)
        if not source.exists():
            warnings.warn(MSG_MISSING_EXTRA.format(path=source), TrackingWarning, stacklevel=2)
            return None
        try:
            with _mlflow_quiet():
                client = self.client
                if source.is_dir():
                    client.log_artifacts(run_id, str(source), f"{artifact_dir}/{source.name}")
                else:
                    client.log_artifact(run_id, str(source), artifact_dir)
        except Exception as exc:  # tracking must never fail the caller
            self._warn(exc, "report")
            return None
        return f"{artifact_dir}/{source.name}"

    # -- registry ------------------------------------------------------------------------------

    def register_framework(
        self,
        run_id: str,
        name: str,
        alias: str | None = "candidate",
        *,
        description: str | None = None,
    ) -> int | None:
        """Register the run's ``framework.yaml`` as a new version of a registered model.

        The version is an MLflow model from code (:data:`MODEL_CODE` plus the YAML), logged as a
        model of the run's experiment; nothing is pickled.

        Parameters
        ----------
        run_id : str
            A run logged by :meth:`log_suggestion` (or :meth:`log_fit` with a framework).
        name : str
            Registered model name (created if missing), e.g. ``longwan-2022-hte``.
        alias : str or None
            Alias to point at the new version (``candidate``, ``adopted`` …); ``None``: none.
        description : str, optional
            Description of the model version.

        Returns
        -------
        int or None
            The new version number; ``None`` if disabled or it failed (with a
            :class:`TrackingWarning`).
        """
        if not self.enabled:
            return None
        try:
            with _mlflow_quiet(), tempfile.TemporaryDirectory(prefix="calibrate-register-") as tmp:
                return self._register(run_id, name, alias, description, Path(tmp))
        except Exception as exc:  # tracking must never fail the caller
            self._warn(exc, "registration")
            return None

    def set_alias(self, name: str, alias: str, version: int) -> bool:
        """Point ``alias`` of registered model ``name`` at ``version`` (e.g. promote to ``adopted``).

        Returns
        -------
        bool
            ``False`` (with a :class:`TrackingWarning`) if disabled or it failed.
        """
        if not self.enabled:
            return False
        try:
            with _mlflow_quiet():
                self.client.set_registered_model_alias(name, alias, str(version))
        except Exception as exc:  # tracking must never fail the caller
            self._warn(exc, "alias")
            return False
        return True

    def download_registered_framework(self, name: str, alias: str, dst: str | Path) -> Path:
        """Download the registered model version behind ``alias`` (the MLflow model folder).

        Parameters
        ----------
        name, alias : str
        dst : str or Path
            Folder to download into.

        Returns
        -------
        Path
            The model folder (``MLmodel``, the model code, ``artifacts/framework.yaml``); load it
            with ``mlflow.pyfunc.load_model(path)``.

        Raises
        ------
        TrackingError
            When tracking is disabled, or the model or alias does not exist.
        """
        if not self.enabled:
            raise TrackingError(MSG_DISABLED.format(uri=self._uri))
        try:
            with _mlflow_quiet():
                import mlflow.artifacts

                client = self.client
                mv = client.get_model_version_by_alias(name, alias)
                source = client.get_model_version_download_uri(name, mv.version)
                local = mlflow.artifacts.download_artifacts(
                    artifact_uri=source, dst_path=str(dst), tracking_uri=self._uri
                )
        except Exception as exc:
            raise TrackingError(
                MSG_NO_ALIAS.format(name=name, alias=alias, uri=self._uri, error=_describe(exc))
            ) from exc
        return Path(local)

    def load_registered_framework(self, name: str, alias: str = "candidate") -> Framework:
        """The framework registered as ``name`` behind ``alias``, read from its YAML.

        Raises
        ------
        TrackingError
            When tracking is disabled, or the model or alias does not exist.
        """
        from calibrate.framework import Framework

        with tempfile.TemporaryDirectory(prefix="calibrate-load-") as tmp:
            folder = self.download_registered_framework(name, alias, tmp)
            path = folder / "artifacts" / FRAMEWORK_ARTIFACT
            return Framework.from_yaml(path.read_text(encoding="utf-8"), f"models:/{name}@{alias}")

    # -- internals -----------------------------------------------------------------------------

    @staticmethod
    def _merge_params(logged: dict[str, Any], extra: Mapping[str, Any] | None) -> dict[str, Any]:
        if not extra:
            return logged
        clash = sorted(set(logged) & set(extra))
        if clash:
            raise ValueError(MSG_PARAM_CLASH.format(keys=", ".join(clash)))
        return {**logged, **extra}

    @staticmethod
    def _suggestion_metrics(s: Suggestion) -> list[tuple[str, float, int]]:
        out: list[tuple[str, float, int]] = []
        for metric, row in s.metrics.iterrows():
            for col in ("current", "suggested"):
                value = _finite(row[col])
                if value is not None:
                    out.append((f"pooled.{col}.{metric}", value, 0))
        for rec in s.metrics_by_year.itertuples(index=False):
            value = _finite(rec.value)
            if value is not None:
                out.append((f"{rec.framework}.{rec.metric}", value, int(cast(Any, rec.year))))
        return out

    @staticmethod
    def _fit_metrics(fr: FitResult) -> list[tuple[str, float, int]]:
        out: list[tuple[str, float, int]] = []
        skip = {"train_years", "note"}
        for year, row in fr.by_year.iterrows():
            for metric, raw in row.items():
                value = None if metric in skip else _finite(raw)
                if value is not None:
                    out.append((str(metric), value, int(cast(Any, year))))
        for summary, row in fr.overall.iterrows():
            for metric, raw in row.items():
                value = _finite(raw)
                if value is not None:
                    out.append((f"{summary}.{metric}", value, 0))
        return out

    def _register(
        self, run_id: str, name: str, alias: str | None, description: str | None, tmp: Path
    ) -> int:
        from mlflow.exceptions import MlflowException

        client = self.client
        run = client.get_run(run_id)
        model_id = run.data.tags.get("calibrate.model_id")
        if model_id:  # the command already logged its framework as a model: register that one
            logged_model = client.get_logged_model(model_id)
        else:
            yaml_dir = tmp / "yaml"
            yaml_dir.mkdir()
            local_yaml = Path(client.download_artifacts(run_id, FRAMEWORK_ARTIFACT, str(yaml_dir)))
            logged_model = _log_framework_model(
                client, run.info.experiment_id, run_id, local_yaml, name, tmp
            )
        info = dict(logged_model.tags)
        try:
            client.create_registered_model(
                name,
                description="calibrate points framework (model from code; reads framework.yaml)",
            )
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        # ``source`` is the model's artifact folder (not ``models:/<id>``): MLflow resolves a
        # ``models:/`` source through the *global* tracking URI, which this tracker never sets.
        mv = client.create_model_version(
            name,
            source=logged_model.artifact_location,
            run_id=run_id,
            tags=info,
            description=description,
            model_id=logged_model.model_id,
        )
        if alias:
            client.set_registered_model_alias(name, alias, str(mv.version))
        with contextlib.suppress(Exception):
            client.set_tag(run_id, "calibrate.registered_as", f"{name}/{mv.version}")
        return int(mv.version)

    def _warn(self, exc: BaseException, what: str) -> None:
        warnings.warn(
            MSG_UNAVAILABLE.format(uri=self._uri, error=_describe(exc), what=what),
            TrackingWarning,
            stacklevel=4,
        )


def _log_framework_model(
    client: MlflowClient, experiment_id: str, run_id: str, yaml_path: Path, name: str, tmp: Path
) -> Any:
    """Log the framework YAML at ``yaml_path`` as a model from code of ``run_id``; ready to register.

    Returns the MLflow ``LoggedModel`` (its tags name the framework id, version, fingerprint).
    """
    import mlflow.pyfunc
    from mlflow.models import Model

    from calibrate.framework import Framework

    fw = Framework.from_yaml(
        yaml_path.read_text(encoding="utf-8"), f"run {run_id}: {yaml_path.name}"
    )
    versions = package_versions()
    info = {
        "framework_id": fw.id,
        "framework_version": fw.version,
        "framework_fingerprint": fw.fingerprint,
        "calibrate_version": versions["calibrate"],
    }
    logged_model = client.create_logged_model(
        experiment_id, name=_slug(name), source_run_id=run_id, tags=info, model_type=MODEL_TYPE
    )
    folder = tmp / f"model-{logged_model.model_id}"
    folder.mkdir()
    code = folder / "framework_model.py"
    code.write_bytes(MODEL_CODE.encode("utf-8"))
    requirements = [
        f"{pkg}=={versions[pkg]}"
        for pkg in ("mlflow", "calibrate", "pandas", "numpy")
        if versions[pkg] != "not installed"
    ]
    mlflow.pyfunc.save_model(
        path=str(folder / "model"),
        python_model=str(code),
        artifacts={MODEL_ARTIFACT_KEY: str(yaml_path)},
        pip_requirements=requirements,
        mlflow_model=Model(run_id=run_id, model_id=logged_model.model_id),
        metadata={"calibrate": info},
    )
    client.log_model_artifacts(logged_model.model_id, str(folder / "model"))
    return client.finalize_logged_model(logged_model.model_id, "READY")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
