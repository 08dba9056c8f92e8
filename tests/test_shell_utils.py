"""Tests of the recipes' shell utilities in egs2/TEMPLATE/utils (parse_options.sh,
launch.sh, split_scp.sh, log.sh) and egs2/TEMPLATE/conf/cmd.sh.example."""

import os
import re
import shutil
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UTILS = REPO / "egs2" / "TEMPLATE" / "utils"
CONF = REPO / "egs2" / "TEMPLATE" / "conf"
LAUNCH = UTILS / "launch.sh"
SPLIT = UTILS / "split_scp.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def run(args, cwd=None, env=None, timeout=30):
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_script(path: Path, body: str) -> Path:
    path.write_text(textwrap.dedent(body).lstrip())
    path.chmod(0o755)
    return path


# ------------------------------------------------------------------ parse_options.sh


@pytest.fixture
def demo(tmp_path):
    return write_script(
        tmp_path / "demo.sh",
        f"""
        #!/usr/bin/env bash
        set -euo pipefail
        nj=4
        train_set=train
        use_lm=true
        extra_args=""
        _private=1
        help_message="Usage: demo.sh [options] <data-dir>
          Demo of parse_options."
        . {UTILS}/parse_options.sh
        echo "nj=$nj"
        echo "train_set=$train_set"
        echo "use_lm=$use_lm"
        echo "extra_args=$extra_args"
        echo "rest=$*"
        echo "nargs=$#"
        echo "leftover=$(set | grep -c '^__po_' || true)"
        """,
    )


def values(out: str) -> dict:
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_parse_options_defaults(demo):
    r = run(["bash", demo])
    assert r.returncode == 0, r.stderr
    v = values(r.stdout)
    assert v == {
        "nj": "4",
        "train_set": "train",
        "use_lm": "true",
        "extra_args": "",
        "rest": "",
        "nargs": "0",
        "leftover": "0",
    }


def test_parse_options_override_forms(demo):
    r = run(
        [
            "bash",
            demo,
            "--nj",
            "8",
            "--train-set=dev clean",
            "--use_lm",
            "false",
            "--extra-args",
            "--beam 5 --x=y",
            "data/a",
            "--nj",
            "9",
        ]
    )
    assert r.returncode == 0, r.stderr
    v = values(r.stdout)
    assert v["nj"] == "8"
    assert v["train_set"] == "dev clean"  # --a-b -> a_b, and the = form
    assert v["use_lm"] == "false"
    assert v["extra_args"] == "--beam 5 --x=y"  # a value may start with --
    # options stop at the first positional argument; the rest stays in "$@"
    assert v["rest"] == "data/a --nj 9" and v["nargs"] == "3"


def test_parse_options_double_dash_and_empty_value(demo):
    r = run(["bash", demo, "--train_set=", "--", "--nj", "x"])
    assert r.returncode == 0, r.stderr
    v = values(r.stdout)
    assert v["train_set"] == "" and v["nj"] == "4" and v["rest"] == "--nj x"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--bogus", "1"], "unknown option --bogus"),
        (["--no-such=1"], "unknown option --no_such"),
        (["--nj"], "option --nj needs a value"),
        (["--use_lm", "yes"], "boolean"),
        (["--config", "/nonexistent.conf"], "/nonexistent.conf"),
    ],
)
def test_parse_options_errors(demo, args, message):
    r = run(["bash", demo, *args])
    assert r.returncode == 1
    assert message in r.stderr
    assert "ERROR" in r.stderr
    assert "nj=" not in r.stdout  # the script stopped


def test_parse_options_help(demo):
    r = run(["bash", demo, "--nj", "6", "--help"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(
        "Usage: demo.sh [options] <data-dir>\n  Demo of parse_options."
    )
    opts = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^  --(\w+) +(.*)$", r.stdout, re.M)
    }
    assert opts == {
        "nj": "6",
        "train_set": "train",
        "use_lm": "true",
        "extra_args": "''",
    }
    assert "nj=" not in r.stdout.split("Options")[0]  # exited before the script's body
    r = run(["bash", demo, "-h"])
    assert r.returncode == 0 and "--nj" in r.stdout and "nargs" not in r.stdout


def test_parse_options_config(demo, tmp_path):
    conf = tmp_path / "demo.conf"
    conf.write_text('# a comment\n\nnj=16\n  train_set="a b"\nexport use_lm=false\n')
    r = run(["bash", demo, "--config", conf])
    assert r.returncode == 0, r.stderr
    v = values(r.stdout)
    assert (v["nj"], v["train_set"], v["use_lm"]) == ("16", "a b", "false")
    # the config is applied first: the command line wins wherever --config is
    r = run(["bash", demo, "--nj", "3", f"--config={conf}", "x"])
    v = values(r.stdout)
    assert (v["nj"], v["train_set"], v["rest"]) == ("3", "a b", "x")
    bad = tmp_path / "bad.conf"
    bad.write_text("nj=2\nnot_an_option=1\n")
    r = run(["bash", demo, "--config", bad])
    assert r.returncode == 1 and "line 2" in r.stderr and "not_an_option" in r.stderr
    bad.write_text("echo hi\n")
    r = run(["bash", demo, "--config", bad])
    assert r.returncode == 1 and "not a name=value line" in r.stderr


# ------------------------------------------------------------------ launch.sh

FOOTER = re.compile(r"^# Ended \(code (\d+)\) at .*, elapsed time \d+ seconds$", re.M)


def test_launch_local_array_parallel(tmp_path):
    # Each job waits until all three have started: passes only if they run in parallel.
    cmd = (
        "touch started.JOB; for i in $(seq 100); do "
        "[ $(ls started.* | wc -l) -ge 3 ] && break; sleep 0.05; done; "
        "[ $(ls started.* | wc -l) -ge 3 ] && echo job JOB of 3 > out.JOB.txt"
    )
    r = run(
        [LAUNCH, "--max_jobs_run", "3", "JOB=1:3", "log/x.JOB.log", cmd], cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    for j in (1, 2, 3):
        assert (tmp_path / f"out.{j}.txt").read_text() == f"job {j} of 3\n"
        log = (tmp_path / f"log/x.{j}.log").read_text()
        lines = log.splitlines()
        assert lines[0] == "# " + cmd.replace("JOB", str(j))
        assert lines[1].startswith("# Started at ")
        assert lines[-2].startswith("# Accounting: time=")
        assert FOOTER.fullmatch(lines[-1]) and FOOTER.search(log).group(1) == "0"


def test_launch_local_args_and_max_jobs_run(tmp_path):
    # Kaldi-style arguments: words pass as they are (so \\| makes a pipe), an argument
    # with spaces stays one argument; with --max_jobs_run 1 the jobs do not overlap.
    r = run(
        [
            LAUNCH,
            "--max-jobs-run=1",
            "JOB=1:3",
            "log/y.JOB.log",
            "bash",
            "-c",
            "echo start JOB >> order; sleep 0.2; echo end JOB >> order",
            ";",
            "echo",
            "a  b",
            "JOB",
            "|",
            "tr",
            "a-z",
            "A-Z",
        ],
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "order").read_text().split("\n")[:-1] == [
        "start 1",
        "end 1",
        "start 2",
        "end 2",
        "start 3",
        "end 3",
    ]
    log2 = (tmp_path / "log/y.2.log").read_text()
    assert "\nA  B 2\n" in log2


def test_launch_failure_report(tmp_path):
    r = run(
        [
            LAUNCH,
            "JOB=1:3",
            "logs/f.JOB.log",
            "echo out-JOB; if [ JOB = 2 ]; then echo boom-JOB >&2; exit 3; fi",
        ],
        cwd=tmp_path,
    )
    assert r.returncode == 1
    assert "JOB=2 failed (exit code 3); log: logs/f.2.log" in r.stderr
    assert "boom-2" in r.stderr  # the last lines of the failed log
    assert "f.1.log" not in r.stderr and "f.3.log" not in r.stderr
    assert "1 of 3 jobs failed" in r.stderr
    assert FOOTER.search((tmp_path / "logs/f.2.log").read_text()).group(1) == "3"
    assert FOOTER.search((tmp_path / "logs/f.3.log").read_text()).group(1) == "0"


def test_launch_single_job(tmp_path):
    r = run([LAUNCH, "exp/single.log", "echo hello | tr a-z A-Z"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    log = (tmp_path / "exp/single.log").read_text()
    assert log.startswith("# echo hello | tr a-z A-Z\n# Started at ")
    assert "\nHELLO\n" in log and FOOTER.search(log).group(1) == "0"
    r = run([LAUNCH, "exp/fail.log", "false"], cwd=tmp_path)
    assert r.returncode == 1 and "exp/fail.log" in r.stderr
    # JOB=N: one job with that id
    r = run([LAUNCH, "JOB=7", "exp/one.JOB.log", "echo", "id", "JOB"], cwd=tmp_path)
    assert r.returncode == 0 and "\nid 7\n" in (tmp_path / "exp/one.7.log").read_text()


def test_launch_local_interrupt_stops_jobs(tmp_path):
    # SIGTERM to launch.sh stops every running job (pipelines included); logs get code
    # 143.
    p = subprocess.Popen(
        [
            str(LAUNCH),
            "--max_jobs_run",
            "2",
            "JOB=1:2",
            "log/k.JOB.log",
            "echo $$ > pid.JOB; sleep 30 | cat",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 10
        while not all((tmp_path / f"pid.{j}").exists() for j in (1, 2)):
            assert time.time() < deadline, "jobs did not start"
            time.sleep(0.05)
        time.sleep(0.2)
        p.terminate()
        _, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 143 and "interrupted by SIGTERM" in err
    for j in (1, 2):
        pid = int((tmp_path / f"pid.{j}").read_text())
        assert (
            not Path(f"/proc/{pid}").exists()
            or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )
        assert (
            FOOTER.search((tmp_path / f"log/k.{j}.log").read_text()).group(1) == "143"
        )


@pytest.mark.parametrize(
    "args, message",
    [
        (["JOB=1:2", "log/same.log", "true"], "must contain JOB"),
        (["--bogus", "1", "log/x.log", "true"], "unknown option --bogus"),
        (["--backend", "pbs", "log/x.log", "true"], "unknown backend"),
        (["log/x.log"], "expected a log file and a command"),
        (["JOB=3:1", "log/x.JOB.log", "true"], "empty job range"),
    ],
)
def test_launch_usage_errors(tmp_path, args, message):
    r = run([LAUNCH, *args], cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr


def path_without(program: str) -> str:
    return os.pathsep.join(
        d
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if d and not os.access(os.path.join(d, program), os.X_OK)
    )


def test_launch_slurm_without_sbatch(tmp_path):
    env = dict(os.environ, PATH=path_without("sbatch"))
    r = run(
        [LAUNCH, "--backend", "slurm", "JOB=1:2", "log/s.JOB.log", "true"],
        cwd=tmp_path,
        env=env,
    )
    assert r.returncode == 2
    assert "sbatch" in r.stderr and "--backend local" in r.stderr
    assert not (tmp_path / "log/s.1.log").exists()


FAKE_SBATCH = r"""#!/usr/bin/env bash
# Stand-in for sbatch --wait: records its arguments, runs the job script once per task.
printf '%s\n' "$@" > "$FAKE_SBATCH_ARGS"
array=""; script=""
for a in "$@"; do
  case $a in --array=*) array=${a#--array=} ;; -*) ;; *) script=$a ;; esac
done
echo 4242
rc=0
if [ -n "$array" ]; then
  r=${array%%\%*}
  for i in $(seq "${r%-*}" "${r#*-}"); do
    SLURM_ARRAY_TASK_ID=$i bash "$script" > /dev/null 2>&1 || rc=$?
  done
else
  bash "$script" > /dev/null 2>&1 || rc=$?
fi
exit $rc
"""


def test_launch_slurm_with_fake_sbatch(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    write_script(bindir / "sbatch", FAKE_SBATCH)
    env = dict(
        os.environ,
        PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}",
        FAKE_SBATCH_ARGS=str(tmp_path / "sbatch.args"),
    )
    work = tmp_path / "work"
    work.mkdir()
    r = run(
        [
            LAUNCH,
            "--backend",
            "slurm",
            "--gpu",
            "1",
            "--mem",
            "16G",
            "--time",
            "1:00:00",
            "--max_jobs_run",
            "2",
            "JOB=1:3",
            "log/t.JOB.log",
            "echo task JOB; exit $((JOB == 3))",
        ],
        cwd=work,
        env=env,
    )
    args = (tmp_path / "sbatch.args").read_text().split("\n")
    for expected in (
        "--wait",
        "--array=1-3%2",
        "--gres=gpu:1",
        "--mem=16G",
        "--time=1:00:00",
        "--job-name=t",
    ):
        assert expected in args
    assert "\ntask 1\n" in (work / "log/t.1.log").read_text()
    assert r.returncode == 1
    assert "JOB=3 failed (exit code 1); log: log/t.3.log" in r.stderr
    assert "t.1.log" not in r.stderr
    assert (work / "log/q/t.sh").exists()


# ------------------------------------------------------------------ split_scp.sh


def test_split_scp_parts(tmp_path):
    lines = [f"utt{i:02d} /data/utt{i:02d}.wav" for i in range(10)]
    scp = tmp_path / "wav.scp"
    scp.write_text("\n".join(lines) + "\n")
    outs = [tmp_path / f"split/wav.{j}.scp" for j in (1, 2, 3)]
    r = run([SPLIT, scp, *outs])
    assert r.returncode == 0, r.stderr
    parts = [o.read_text().splitlines() for o in outs]
    assert [len(p) for p in parts] == [4, 3, 3]
    assert sum(parts, []) == lines  # contiguous, in order, nothing lost
    # deterministic
    r = run([SPLIT, scp, *outs])
    assert [o.read_text().splitlines() for o in outs] == parts


def test_split_scp_nj_dir(tmp_path):
    scp = tmp_path / "text"
    scp.write_text("a x\nb y\nc z")  # no final newline
    r = run([SPLIT, "--nj", "2", scp, tmp_path / "out/"])
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out/1/text").read_text() == "a x\nb y\n"
    assert (tmp_path / "out/2/text").read_text() == "c z\n"


def test_split_scp_too_few_lines(tmp_path):
    scp = tmp_path / "wav.scp"
    scp.write_text("a 1\nb 2\n")
    r = run([SPLIT, "--nj", "3", scp, tmp_path / "out"])
    assert r.returncode == 1 and "fewer than the 3 parts" in r.stderr
    assert not (tmp_path / "out").exists()
    r = run([SPLIT, scp, tmp_path / "1", tmp_path / "2", tmp_path / "3"])
    assert r.returncode == 1 and not (tmp_path / "1").exists()
    r = run([SPLIT, tmp_path / "missing.scp", tmp_path / "1"])
    assert r.returncode == 1 and "missing.scp" in r.stderr


# ------------------------------------------------------------------ log.sh


def test_log_helpers(tmp_path):
    script = write_script(
        tmp_path / "stage.sh",
        f"""
        #!/usr/bin/env bash
        set -euo pipefail
        . {UTILS}/log.sh
        stage=2
        stop_stage=3
        log "hello world"
        stage_banner 2 "Dump features"
        for n in 1 2 3 4; do if stage_selected $n; then echo "selected $n"; fi; done
        if is_done out; then echo "done before"; fi
        done_marker out "stage 2"
        if is_done out; then echo "done after"; fi
        force=true
        if is_done out; then echo "done forced"; else echo "redo forced"; fi
        force=false
        clear_done out
        if is_done out; then echo "done cleared"; fi
        printf 'a\\nb\\nc\\n' > in.txt
        count_report filter in.txt 1
        count_report dump 10 10
        die "stop here"
        echo "not reached"
        """,
    )
    r = run(["bash", script], cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        "selected 2",
        "selected 3",
        "done after",
        "redo forced",
    ]
    err = r.stderr.splitlines()
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d \(stage\.sh:\d+\) "
    assert re.fullmatch(stamp + "hello world", err[0])
    assert re.fullmatch(stamp + "=== Stage 2: Dump features ===", err[1])
    assert re.fullmatch(stamp + "filter: in=3 out=1 skipped=2", err[2])
    assert re.fullmatch(stamp + "dump: in=10 out=10 skipped=0", err[3])
    assert re.fullmatch(stamp + "ERROR: stop here", err[4])
    assert not (tmp_path / "out/.done").exists() and (tmp_path / "out").is_dir()


# ------------------------------------------------------------------ cmd.sh.example


def test_cmd_sh_example_backends(tmp_path):
    show = f'. {CONF}/cmd.sh.example && echo "$train_cmd|$decode_cmd|$cuda_cmd"'
    r = run(["bash", "-c", show], env=dict(os.environ, cmd_backend="local"))
    assert r.returncode == 0, r.stderr
    train, decode, cuda = r.stdout.strip().split("|")
    assert train.startswith("utils/launch.sh --backend local")
    r = run(["bash", "-c", show], env=dict(os.environ, cmd_backend="slurm"))
    train, decode, cuda = r.stdout.strip().split("|")
    assert "--backend slurm" in train and "--gpu 1" in cuda and "--mem 16G" in cuda
    r = run(["bash", "-c", show], env=dict(os.environ, cmd_backend="sge"))
    assert r.returncode != 0 and "unknown cmd_backend" in r.stderr


def _shell_scripts():
    """Every shell script the repository tracks (recipes, TEMPLATE, set-up, CI)."""
    root = REPO
    out = subprocess.run(
        ["git", "ls-files", "*.sh", ".ci/run"], cwd=root, capture_output=True, text=True
    )
    files = [root / f for f in out.stdout.split()] if out.returncode == 0 else []
    return files or [
        UTILS / f for f in ("parse_options.sh", "launch.sh", "split_scp.sh", "log.sh")
    ]


# tools/setup.sh installs shellcheck (Debian package), so this runs in CI; the skip is
# for machines set up otherwise
@pytest.mark.skipif(
    shutil.which("shellcheck") is None, reason="shellcheck not installed"
)
def test_shellcheck_clean():
    files = _shell_scripts() + [CONF / "cmd.sh.example"]
    assert len(files) > 10
    r = run(["shellcheck", "-s", "bash", "-S", "warning", *files])
    assert r.returncode == 0, r.stdout + r.stderr
    # the utilities are clean at every severity
    utils = [
        UTILS / f
        for f in ("parse_options.sh", "launch.sh", "split_scp.sh", "log.sh", "exp.sh")
    ]
    r = run(["shellcheck", "-s", "bash", *utils, CONF / "cmd.sh.example"])
    assert r.returncode == 0, r.stdout + r.stderr


# ------------------------------------------------------------------------ exp.sh


def test_exp_helpers(tmp_path):
    """Tags, overrides and the job pool shared by asr.sh and vc.sh."""
    script = write_script(
        tmp_path / "exp_demo.sh",
        f"""
        #!/usr/bin/env bash
        set -euo pipefail
        . {UTILS}/log.sh
        . {UTILS}/exp.sh
        for t in dense dedup_seed2 fixed_pool3.333 entropy_rate15 \\
                 entropy_local_rate8_seed3 nope fixed_pool3.333_ctx_seed1 \\
                 oracle_phone; do
            echo "$t -> $(tag_frontend "$t")"
        done
        tag_sets fixed_pool2_seed4 "max_epoch=3" "fixed_pool2:lr=1 dense:lr=2" \\
            tts_conf.frontend_conf
        tag_sets fixed_pool3.333_dur "" ""
        [ "$(stamp_of /dev/null a)" = "$(stamp_of /dev/null a)" ]
        [ "$(stamp_of a)" != "$(stamp_of b)" ]
        job() {{ sleep 0.$((RANDOM % 3)); [ "$1" != bad ]; }}
        run_jobs 2 job a bad c
        echo "failed: ${{run_jobs_failed[*]}}"
        echo x > "{tmp_path}/t.log"
        rotate_log "{tmp_path}/t.log"
        """,
    )
    r = run([script])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:8] == [
        "dense -> dense - -",
        "dedup_seed2 -> dedup - -",
        "fixed_pool3.333 -> fixed_pool - -",
        "entropy_rate15 -> entropy rate15 -",
        "entropy_local_rate8_seed3 -> entropy local_rate8 local",
        "nope -> - - -",
        "fixed_pool3.333_ctx_seed1 -> fixed_pool - ctx",
        "oracle_phone -> oracle_pool - phone",
    ]
    assert lines[8:13] == [
        "--set max_epoch=3",
        "--set lr=1",
        "--set seed=4",
        "--set tts_conf.frontend_conf.pool_size=2",
        "--set frontend_conf.pool_size=3.333",
    ]
    assert lines[13] == "failed: bad"
    assert "other training job(s) running" in r.stderr
    assert (tmp_path / "t.log.1").is_file() and not (tmp_path / "t.log").exists()


def test_split_units_opts(tmp_path):
    """Unknown options go to units_opts (for units.sh), the others to args."""
    script = write_script(
        tmp_path / "split_demo.sh",
        f"""
        #!/usr/bin/env bash
        set -euo pipefail
        nj=2
        stage=1
        . {UTILS}/exp.sh
        units_opts=() args=()
        split_units_opts --nj 3 --kmeans_clusters 50 --stage=2 --lm-order=3 \\
            --help --config c.conf --nj --dash-value pos1
        printf 'units: %s\\n' "${{units_opts[@]}}"
        printf 'args: %s\\n' "${{args[@]}}"
        """,
    )
    r = run([script])
    assert r.returncode == 0, r.stderr
    units = [x[7:] for x in r.stdout.splitlines() if x.startswith("units: ")]
    args = [x[6:] for x in r.stdout.splitlines() if x.startswith("args: ")]
    assert units == ["--kmeans_clusters", "50", "--lm-order=3"]
    assert args == [
        "--nj",
        "3",
        "--stage=2",
        "--help",
        "--config",
        "c.conf",
        "--nj",
        "--dash-value",
        "pos1",
    ]
