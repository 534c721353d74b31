"""Apache Kafka's jars, fetched from Maven Central once into ``deploy/kafka/lib`` and reused by every broker.

The project carries no Kafka tarball: ``deploy/kafka/pom.xml`` names the broker, the tools and the logging
binding, and ``mvn dependency:copy-dependencies`` resolves them (through ``~/.m2``) into ``lib/``. A stamp
holding the pom's SHA-256 marks a complete fetch, so editing the pom (a new Kafka version) triggers a clean
re-fetch and an interrupted fetch is retried rather than trusted. Every JVM launch goes through
:func:`java_argv` so the broker, the storage formatter and the command-line tools share one classpath and one
way of finding ``java``.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from streams.kafka.errors import KafkaSetupError

DEFAULT_HOME = Path(__file__).resolve().parents[2] / "deploy" / "kafka"
STAMP_NAME = ".pom.sha256"
BROKER_JAR_PREFIX = "kafka_2.13-"
MVN_TIMEOUT_S = 900.0
_TAIL_LINES = 30


def _ignore(_: str) -> None:
    """Default progress sink: library code stays quiet unless the caller asks to hear about a long fetch."""


def lib_dir(home: Path = DEFAULT_HOME) -> Path:
    return home / "lib"


def classpath(home: Path = DEFAULT_HOME) -> str:
    """``lib/*`` as one argument: the JVM expands the wildcard itself (to ``.jar`` files only)."""
    return str(lib_dir(home) / "*")


def pom_digest(home: Path = DEFAULT_HOME) -> str:
    return hashlib.sha256((home / "pom.xml").read_bytes()).hexdigest()


def jars_current(home: Path = DEFAULT_HOME) -> bool:
    """True when ``lib/`` holds a complete fetch of the current pom."""
    stamp = lib_dir(home) / STAMP_NAME
    try:
        recorded = stamp.read_text().strip()
    except FileNotFoundError:
        return False
    has_broker = any(lib_dir(home).glob(f"{BROKER_JAR_PREFIX}*.jar"))
    return has_broker and recorded == pom_digest(home)


def require_executable(name: str, hint: str, search_path: str | None = None) -> str:
    """Absolute path of a program on PATH, or a :class:`KafkaSetupError` that tells the user how to get it."""
    found = shutil.which(name, path=search_path)
    if found is None:
        raise KafkaSetupError(f"`{name}` not found on PATH: {hint}")
    return found


def java_executable(env: dict[str, str] | None = None) -> str:
    """``$JAVA_HOME/bin/java`` when JAVA_HOME is set (like Kafka's own scripts), else ``java`` from PATH."""
    env = dict(os.environ) if env is None else env
    java_home = env.get("JAVA_HOME", "")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if os.access(candidate, os.X_OK):
            return str(candidate)
        raise KafkaSetupError(f"JAVA_HOME={java_home} has no executable bin/java; fix or unset JAVA_HOME")
    return require_executable(
        "java", "install a JDK or JRE 17+ (e.g. apt-get install openjdk-17-jre-headless)", env.get("PATH")
    )


def java_argv(
    main_class: str,
    args: Sequence[str] = (),
    *,
    home: Path = DEFAULT_HOME,
    jvm_options: Sequence[str] = ("-Xmx256m",),
    java: str | None = None,
) -> list[str]:
    """Command line of a Kafka main class (broker, StorageTool, TopicCommand, ProducerPerformance, ...).

    Tools log warnings to stderr through ``tools-log4j2.xml`` unless ``jvm_options`` names another
    log4j2 file.
    """
    options = list(jvm_options)
    if not any(o.startswith("-Dlog4j2.configurationFile=") for o in options):
        options.append(f"-Dlog4j2.configurationFile={home / 'tools-log4j2.xml'}")
    return [java or java_executable(), *options, "-cp", classpath(home), main_class, *args]


@contextmanager
def _pom_lock(home: Path) -> Iterator[None]:
    """Serialise fetches (two test sessions, or setup.sh racing a broker start) on a lock held on the pom
    itself, so no lock file ever appears in the source tree."""
    with (home / "pom.xml").open("rb") as pom:
        fcntl.flock(pom.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(pom.fileno(), fcntl.LOCK_UN)


def _tail(text: str, lines: int = _TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def fetch_jars(
    home: Path = DEFAULT_HOME,
    *,
    force: bool = False,
    mvn: str | None = None,
    report: Callable[[str], None] = _ignore,
) -> bool:
    """Make ``lib/`` match the pom; returns whether Maven ran.

    Maven writes into a scratch directory inside ``lib/`` (gitignored); only after it succeeds are the old
    jars replaced and the stamp written, so a failed or interrupted fetch leaves the previous jars usable and
    unstamped work is redone next time.
    """
    if not force and jars_current(home):
        return False
    with _pom_lock(home):
        if not force and jars_current(home):  # another process fetched while we waited for the lock
            return False
        mvn = mvn or require_executable("mvn", "install Apache Maven 3.6.3+ (e.g. apt-get install maven)")
        lib = lib_dir(home)
        lib.mkdir(parents=True, exist_ok=True)
        report(f"fetching Apache Kafka jars with Maven into {lib} (a cold ~/.m2 takes a minute)")
        scratch = Path(tempfile.mkdtemp(prefix=".incoming-", dir=lib))
        try:
            command = [
                mvn,
                "-B",
                "-q",
                "-f",
                str(home / "pom.xml"),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={scratch}",
            ]
            try:
                done = subprocess.run(
                    command, capture_output=True, text=True, timeout=MVN_TIMEOUT_S, check=False
                )
            except subprocess.TimeoutExpired as exc:
                raise KafkaSetupError(
                    f"Maven did not finish within {MVN_TIMEOUT_S:.0f} s fetching Kafka jars"
                ) from exc
            jars = sorted(scratch.glob("*.jar"))
            if done.returncode != 0 or not any(j.name.startswith(BROKER_JAR_PREFIX) for j in jars):
                output = _tail(done.stdout + "\n" + done.stderr)
                raise KafkaSetupError(
                    f"Maven could not fetch the Kafka jars (exit {done.returncode}):\n{output}"
                )
            (lib / STAMP_NAME).unlink(missing_ok=True)
            for old in lib.glob("*.jar"):
                old.unlink()
            for jar in jars:
                jar.rename(lib / jar.name)
            (lib / STAMP_NAME).write_text(pom_digest(home) + "\n")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        report(f"fetched {len(jars)} jars")
        return True


__all__ = [
    "DEFAULT_HOME",
    "classpath",
    "fetch_jars",
    "jars_current",
    "java_argv",
    "java_executable",
    "lib_dir",
    "pom_digest",
    "require_executable",
]
