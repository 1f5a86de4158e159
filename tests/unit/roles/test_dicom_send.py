# -*- coding: utf-8 -*-
# Copyright: contributors to dicom.secure_transfer
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The send job's logic: roles/storescu/files/dicom-send, loaded from its file."""

import importlib.machinery
import importlib.util
import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "storescu" / "files" / "dicom-send"


def _load():
    loader = importlib.machinery.SourceFileLoader("dicom_send", str(SCRIPT))
    spec = importlib.util.spec_from_loader("dicom_send", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


ds = _load()

NOW = 1_700_000_000.0
DICOM = b"\0" * 128 + b"DICM" + b"\2\0\1\0" * 8


# -- outbox classification ------------------------------------------------------------


def test_classify_skips_hidden_files_and_collects_leftovers():
    scan = ds.classify_entries(
        [(".incoming.tmp", 10, NOW - 100), ("a.dcm.done", 10, NOW - 100),
         ("b.dcm.bad", 10, NOW - 100), ("c.dcm", 10, NOW - 100)],
        NOW, 2,
    )
    assert scan["done"] == ["a.dcm"]
    assert scan["bad"] == ["b.dcm"]
    assert [name for name, _s, _m in scan["eligible"]] == ["c.dcm"]


def test_classify_holds_back_files_changed_within_the_settle_time():
    scan = ds.classify_entries([("new", 1, NOW - 1.5), ("old", 1, NOW - 2.0)], NOW, 2)
    assert [n for n, _s, _m in scan["unsettled"]] == ["new"]
    assert [n for n, _s, _m in scan["eligible"]] == ["old"]


def test_classify_waits_a_little_for_future_dates_but_not_forever():
    scan = ds.classify_entries([("soon", 1, NOW + 10), ("skewed", 1, NOW + 3600)], NOW, 2)
    assert [n for n, _s, _m in scan["unsettled"]] == ["soon"]
    assert [n for n, _s, _m in scan["eligible"]] == ["skewed"]


def test_settle_time_zero_sends_at_once():
    scan = ds.classify_entries([("a", 1, NOW)], NOW, 0)
    assert [n for n, _s, _m in scan["eligible"]] == ["a"]


def test_eligible_files_go_oldest_first():
    scan = ds.classify_entries([("b", 1, NOW - 50), ("a", 1, NOW - 50), ("c", 1, NOW - 90)],
                               NOW, 2)
    assert [n for n, _s, _m in scan["eligible"]] == ["c", "a", "b"]


def test_wait_for_unsettled_files_is_bounded():
    assert ds.seconds_until_settled([("a", 1, NOW - 0.5)], NOW, 2) == pytest.approx(1.5)
    assert ds.seconds_until_settled([("a", 1, NOW + 200)], NOW, 2) == 2
    assert ds.seconds_until_settled([], NOW, 2) == 0


# -- batches and the storescu command -------------------------------------------------


def test_batches_split_a_round_over_the_associations():
    names = ["f%03d" % i for i in range(10)]
    batches = ds.make_batches(names, 200, 4)
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert sum(batches, []) == names


def test_batches_respect_the_batch_size_and_leave_the_rest_for_the_next_round():
    names = ["f%04d" % i for i in range(1000)]
    batches = ds.make_batches(names, 200, 2)
    assert [len(b) for b in batches] == [200, 200]
    assert sum(batches, []) == names[:400]
    assert ds.make_batches([], 200, 4) == []


def _config(tmp_path, **changes):
    outbox = tmp_path / "outbox"
    state = tmp_path / "state"
    for directory in (outbox, state / "sent", state / "quarantine"):
        directory.mkdir(parents=True, exist_ok=True)
    config = dict(ds.DEFAULTS)
    config.update(
        name="archive", host="rx1", port=2762, called_aetitle="RECEIVER",
        calling_aetitle="SENDER", outbox=str(outbox), state_dir=str(state),
        tls_args=["+tls", "/k", "/c", "+cf", "/t", "+pg", "-rc"], settle_seconds=0,
    )
    config.update(changes)
    return config


def test_storescu_command_names_files_so_they_cannot_pass_for_options(tmp_path):
    command = ds.storescu_command(_config(tmp_path), ["-v", "+tls", "a.dcm"])
    assert command[-5:] == ["rx1", "2762", "./-v", "./+tls", "./a.dcm"]
    assert "--rename" in command
    assert command[command.index("--call") + 1] == "RECEIVER"
    assert command[command.index("--aetitle") + 1] == "SENDER"
    assert ["+cf", "/t", "+pg", "-rc"] == command[command.index("+cf"):command.index("-rc") + 1]


# -- what storescu said ---------------------------------------------------------------

LOG_OUT_OF_RESOURCES = """\
I: checking input files ...
I: Requesting Association
I: Association Accepted (Max Send PDV: 16372)
I: Sending file: ./a.dcm
I: Sending Store Request (MsgID 1, CT)
XMIT: .
I: Received Store Response (Refused: OutOfResources)
I: Releasing Association
"""

LOG_ABORT = """\
I: Sending file: ./a.dcm
E: Store Failed, file: ./a.dcm:
E: 0006:0317 Peer aborted Association (or never connected)
"""

LOG_NOT_DICOM = """\
I: Sending file: ./x.txt
E: Bad DICOM file: ./x.txt: I/O suspension or premature end of stream
E: Store SCU Failed: 0001:000a I/O suspension or premature end of stream
"""

LOG_NO_CONTEXT = """\
I: Sending file: ./u.dcm
E: No presentation context for: (unknown SOP class) 1.2.3.4.5.6
E: Store SCU Failed: 0006:0208 DIMSE No valid Presentation Context ID
"""

LOG_REFUSED = """\
I: Requesting Association
F: Association Request Failed: 0006:031c TCP Initialization Error: Connection refused
"""


def test_parse_reads_failure_status_per_file():
    files = ds.parse_storescu_log(LOG_OUT_OF_RESOURCES)["files"]
    assert files == {"a.dcm": ("status", "the receiver answered Refused: OutOfResources")}


def test_parse_tells_a_network_abort_from_a_bad_file():
    assert ds.parse_storescu_log(LOG_ABORT)["files"]["a.dcm"][0] == "transient"
    assert "Peer aborted" in ds.parse_storescu_log(LOG_ABORT)["files"]["a.dcm"][1]
    assert ds.parse_storescu_log(LOG_NOT_DICOM)["files"]["x.txt"][0] == "permanent"
    assert ds.parse_storescu_log(LOG_NO_CONTEXT)["files"]["u.dcm"][0] == "permanent"


def test_parse_keeps_the_first_fatal_message():
    assert ds.parse_storescu_log(LOG_REFUSED)["fatal"].startswith("Association Request Failed")


# -- the fate of each file ------------------------------------------------------------


def _interpret(returncode, marks, text):
    return ds.interpret_batch(returncode, list(marks), marks, ds.parse_storescu_log(text))


def test_a_successful_batch_is_sent():
    outcome = _interpret(0, {"a": "done", "b": "done"}, "")
    assert outcome == {"sent": ["a", "b"], "retry": [], "quarantine": [], "transient": ""}


def test_association_failure_keeps_every_file():
    outcome = _interpret(1, {"a": None, "b": None}, LOG_REFUSED)
    assert outcome["retry"] == ["a", "b"] and not outcome["sent"]
    assert "Connection refused" in outcome["transient"]


@pytest.mark.parametrize("returncode", [10, 170, 205, 218])
def test_network_abort_keeps_the_file_whatever_the_exit_status(returncode):
    # Aborted mid-store, DCMTK 3.6.7 and 3.6.9 exit with a status that means nothing.
    outcome = _interpret(returncode, {"a.dcm": "bad", "b.dcm": None}, LOG_ABORT)
    assert outcome["retry"] == ["a.dcm", "b.dcm"] and not outcome["quarantine"]
    assert outcome["transient"]


def test_out_of_resources_is_retried():
    outcome = _interpret(0xA7, {"a.dcm": "bad", "b.dcm": None}, LOG_OUT_OF_RESOURCES)
    assert outcome["retry"] == ["a.dcm", "b.dcm"]
    assert "0xA7xx" in outcome["transient"]


def test_a_status_the_receiver_will_never_accept_is_quarantined():
    log = LOG_OUT_OF_RESOURCES.replace("Refused: OutOfResources",
                                       "Error: DataSetDoesNotMatchSOPClass")
    outcome = _interpret(0xA9, {"a.dcm": "bad", "b.dcm": None}, log)
    assert outcome["quarantine"] == [
        ("a.dcm", "the receiver answered Error: DataSetDoesNotMatchSOPClass "
                  "(C-STORE status 0xA9xx)")]
    assert outcome["retry"] == ["b.dcm"] and outcome["transient"] == ""


def test_not_dicom_and_refused_sop_class_are_quarantined_and_the_rest_goes_on():
    outcome = _interpret(1, {"a.dcm": "done", "x.txt": "bad", "b.dcm": None}, LOG_NOT_DICOM)
    assert outcome["sent"] == ["a.dcm"]
    assert outcome["quarantine"][0][0] == "x.txt"
    assert outcome["retry"] == ["b.dcm"] and outcome["transient"] == ""
    outcome = _interpret(1, {"u.dcm": "bad"}, LOG_NO_CONTEXT)
    assert "presentation context" in outcome["quarantine"][0][1]


def test_an_unexplained_bad_file_is_retried_not_quarantined():
    outcome = _interpret(3, {"a.dcm": "bad"}, "")
    assert outcome["retry"] == ["a.dcm"] and outcome["transient"]


@pytest.mark.parametrize("returncode", [1, 0xC0, 0xA9])
def test_a_file_marked_bad_when_the_receiver_was_killed_is_retried(returncode):
    # storescp SIGKILLed mid-batch: files marked .bad without any store response.
    log = ("I: Sending file: ./a.dcm\n"
           "E: Store Failed, file: ./a.dcm:\n"
           "E: 0006:0317 Peer aborted Association (or never connected)\n")
    outcome = _interpret(returncode, {"a.dcm": "bad", "b.dcm": "bad", "c.dcm": None}, log)
    assert outcome["retry"] == ["a.dcm", "b.dcm", "c.dcm"] and not outcome["quarantine"]
    assert outcome["transient"]
    assert _interpret(1, {"b.dcm": "bad"}, "")["retry"] == ["b.dcm"]


def test_without_a_log_an_unknown_status_high_byte_decides():
    # storescu at log level warn names no response; its exit status still tells.
    assert _interpret(0xC0, {"a.dcm": "bad"}, "")["quarantine"]
    assert not _interpret(0xA7, {"a.dcm": "bad"}, "")["quarantine"]


# -- files on disk ----------------------------------------------------------------------


def _drop(config, name, content=DICOM, age=100):
    path = Path(config["outbox"]) / name
    path.write_bytes(content)
    os.utime(path, (NOW - age, NOW - age))
    return path


def test_probe_tells_dicom_from_other_files(tmp_path):
    config = _config(tmp_path)
    assert ds.probe_file(str(_drop(config, "a.dcm"))) == ("ok", "")
    assert ds.probe_file(str(_drop(config, "b.txt", b"hello")))[0] == "not_dicom"
    assert ds.probe_file(str(tmp_path / "none"))[0] == "gone"


def test_recover_finishes_an_interrupted_run(tmp_path):
    config = _config(tmp_path)
    _drop(config, "a.dcm.done")
    _drop(config, "b.dcm.bad")
    _drop(config, "c.dcm.bad")
    _drop(config, "c.dcm")
    counts = ds.new_counts()
    ds.recover(config, ds.scan_outbox(config, NOW), counts)
    outbox = sorted(os.listdir(config["outbox"]))
    assert outbox == ["b.dcm", "c.dcm"]
    assert os.listdir(os.path.join(config["state_dir"], "sent")) == ["a.dcm"]
    assert sorted(os.listdir(os.path.join(config["state_dir"], "quarantine"))) == [
        "c.dcm", "c.dcm.reason"]
    assert counts["recovered"] == 3 and counts["quarantined"] == 1


def test_delete_mode_leaves_nothing_behind(tmp_path):
    config = _config(tmp_path, after_send="delete")
    _drop(config, "a.dcm.done")
    ds.finish_sent(config, "a.dcm")
    assert os.listdir(config["outbox"]) == []
    assert os.listdir(os.path.join(config["state_dir"], "sent")) == []


def test_sent_files_expire_after_the_retention(tmp_path):
    config = _config(tmp_path, sent_retention_days=7)
    sent = Path(config["state_dir"]) / "sent"
    for name, days in (("old", 8), ("young", 6)):
        (sent / name).write_bytes(b"x")
        os.utime(sent / name, (NOW - days * 86400, NOW - days * 86400))
    assert ds.cleanup_sent(config, NOW) == 1
    assert os.listdir(sent) == ["young"]
    assert ds.cleanup_sent(dict(config, sent_retention_days=0), NOW + 10**8) == 0


def test_quarantine_keeps_every_copy(tmp_path):
    config = _config(tmp_path)
    _drop(config, "a.dcm.bad")
    ds.quarantine(config, "a.dcm", "the reason")
    _drop(config, "a.dcm.bad")
    ds.quarantine(config, "a.dcm", "the reason")
    names = sorted(os.listdir(os.path.join(config["state_dir"], "quarantine")))
    assert names == ["a.dcm", "a.dcm.1", "a.dcm.1.reason", "a.dcm.reason"]
    reason = Path(config["state_dir"], "quarantine", "a.dcm.reason").read_text()
    assert reason.rstrip().endswith("archive: the reason")


def test_lock_admits_one_run(tmp_path):
    config = _config(tmp_path)
    first = ds.acquire_lock(config)
    assert first is not None
    assert ds.acquire_lock(config) is None
    first.close()
    ds.acquire_lock(config).close()


# -- a whole run against a fake storescu ------------------------------------------------

FAKE_STORESCU = """\
#!{python}
# Behaves like storescu +rn: files named *refuse* get status 0xA900, a file named
# *down* makes the association fail, the others are acknowledged.
import os, sys
files = [a for a in sys.argv if a.startswith("./")]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(" ".join(files) + "\\n")
if any("down" in f for f in files):
    print("F: Association Request Failed: 0006:031c TCP Initialization Error")
    sys.exit(1)
for f in files:
    print("I: Sending file: " + f)
    if "refuse" in f:
        print("I: Received Store Response (Error: DataSetDoesNotMatchSOPClass)")
        os.rename(f, f + ".bad")
        sys.exit(0xA9)
    print("I: Received Store Response (Success)")
    os.rename(f, f + ".done")
"""


@pytest.fixture
def fake(tmp_path, monkeypatch):
    script = tmp_path / "storescu"
    script.write_text(FAKE_STORESCU.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "calls"))
    return _config(tmp_path, storescu=str(script), batch_size=2, parallel=2)


def _status(config):
    return json.loads(Path(config["state_dir"], "status.json").read_text())


def test_a_run_sends_everything_and_reports_it(fake, capsys):
    for index in range(5):
        _drop(fake, "img%d.dcm" % index)
    _drop(fake, ".partial")
    _drop(fake, "notes.txt", b"not dicom")
    assert ds.run(fake) == ds.EX_OK
    assert sorted(os.listdir(fake["outbox"])) == [".partial"]
    assert len(os.listdir(os.path.join(fake["state_dir"], "sent"))) == 5
    status = _status(fake)
    assert status["result"] == "ok"
    assert status["last_run"]["sent"] == 5 and status["last_run"]["quarantined"] == 1
    assert status["last_run"]["bytes"] == 5 * len(DICOM)
    assert status["waiting"] == 0
    assert status["last_success"] == status["finished"]
    calls = Path(fake["outbox"]).parent.joinpath("calls").read_text().splitlines()
    assert all(len(call.split()) <= 2 for call in calls)
    assert "<5>archive: sent 5 files" in capsys.readouterr().out


def test_a_refused_file_is_quarantined_and_does_not_block_the_others(fake):
    for name in ("a.dcm", "refuse.dcm", "z.dcm"):
        _drop(fake, name)
    assert ds.run(dict(fake, parallel=1, batch_size=10)) == ds.EX_OK
    assert os.listdir(fake["outbox"]) == []
    assert sorted(os.listdir(os.path.join(fake["state_dir"], "sent"))) == ["a.dcm", "z.dcm"]
    reason = Path(fake["state_dir"], "quarantine", "refuse.dcm.reason").read_text()
    assert "DataSetDoesNotMatchSOPClass" in reason


def test_an_unreachable_receiver_keeps_the_files_and_asks_for_a_retry(fake, capsys):
    _drop(fake, "down.dcm")
    assert ds.run(fake) == ds.EX_TEMPFAIL
    assert os.listdir(fake["outbox"]) == ["down.dcm"]
    status = _status(fake)
    assert status["result"] == "retrying" and "Association Request Failed" in status["error"]
    assert status["last_success"] is None
    assert "<4>archive: sent 0 files" in capsys.readouterr().out


def test_an_idle_run_after_a_good_one_logs_nothing(fake, capsys):
    assert ds.run(fake) == ds.EX_OK
    capsys.readouterr()
    assert ds.run(fake) == ds.EX_OK
    assert capsys.readouterr().out == ""


def test_an_unreadable_file_stays_and_is_reported_once(fake, capsys, monkeypatch):
    _drop(fake, "locked.dcm")
    probe = ds.probe_file

    def unreadable(path):
        if path.endswith("locked.dcm"):
            return "unreadable", "Permission denied"
        return probe(path)

    monkeypatch.setattr(ds, "probe_file", unreadable)
    assert ds.run(fake) == ds.EX_OK
    assert os.listdir(fake["outbox"]) == ["locked.dcm"]
    assert "cannot read locked.dcm (Permission denied)" in capsys.readouterr().out
    assert ds.run(fake) == ds.EX_OK
    assert capsys.readouterr().out == ""
    assert _status(fake)["unreadable_files"] == ["locked.dcm"]


def test_a_broken_trust_file_stops_the_run_before_storescu(fake, tmp_path):
    trust = tmp_path / "trust.pem"
    trust.write_text("")
    _drop(fake, "a.dcm")
    config = dict(fake, tls_files={"trust": [str(trust)]})
    assert ds.run(config) == ds.EX_TEMPFAIL
    assert "trust file" in _status(config)["error"]
    assert not (tmp_path / "calls").exists()


def test_files_arriving_during_a_run_leave_in_the_same_run(fake, monkeypatch):
    config = dict(fake, settle_seconds=2)
    _drop(config, "first.dcm")
    ticks = iter(NOW + i for i in range(100))
    waits = []
    original = ds.send_round

    def send_round(config, names, sizes, counts):
        result = original(config, names, sizes, counts)
        if "first.dcm" in names:
            # It arrives while the first batch is on its way: not settled yet.
            _drop(config, "second.dcm", age=-1.5)
        return result

    monkeypatch.setattr(ds, "send_round", send_round)
    assert ds.run(config, clock=lambda: next(ticks), sleep=waits.append) == ds.EX_OK
    assert waits, "the run waited for the new file to settle"
    assert sorted(os.listdir(os.path.join(config["state_dir"], "sent"))) == [
        "first.dcm", "second.dcm"]


def test_a_file_arriving_after_the_last_look_leaves_in_the_same_run(fake, monkeypatch):
    _drop(fake, "first.dcm")
    original = ds.send_until_empty
    calls = []

    def send_until_empty(*args):
        result = original(*args)
        if not calls:
            # Renamed into the outbox just after the job found it empty.
            _drop(fake, "late.dcm")
        calls.append(result)
        return result

    monkeypatch.setattr(ds, "send_until_empty", send_until_empty)
    assert ds.run(fake) == ds.EX_OK
    assert len(calls) == 2
    assert sorted(os.listdir(os.path.join(fake["state_dir"], "sent"))) == [
        "first.dcm", "late.dcm"]


def test_failed_runs_back_off_exponentially_up_to_the_maximum():
    config = dict(ds.DEFAULTS, backoff_base_seconds=30, backoff_max_seconds=600)
    delays = [ds.backoff_delay(config, n) for n in range(1, 8)]
    assert delays == [30, 60, 120, 240, 480, 600, 600]


def test_a_backing_off_run_does_not_connect_until_its_time(fake):
    _drop(fake, "down.dcm")
    clock = iter(NOW + i * 0.1 for i in range(1000))
    assert ds.run(fake, clock=lambda: next(clock)) == ds.EX_TEMPFAIL
    state = ds.read_backoff(fake)
    assert state["failures"] == 1 and state["next_attempt"] > NOW + 29
    calls = Path(fake["outbox"]).parent / "calls"
    made = len(calls.read_text().splitlines())

    # The timer's next start, before the backoff is over: no storescu call at all.
    assert ds.run(fake, clock=lambda: NOW + 10) == ds.EX_TEMPFAIL
    assert len(calls.read_text().splitlines()) == made
    assert _status(fake)["failed_runs_in_a_row"] == 1

    # After it, the run tries again and doubles the wait.
    later = iter(NOW + 40 + i * 0.1 for i in range(1000))
    assert ds.run(fake, clock=lambda: next(later)) == ds.EX_TEMPFAIL
    assert len(calls.read_text().splitlines()) > made
    state = ds.read_backoff(fake)
    assert state["failures"] == 2 and state["next_attempt"] > NOW + 40 + 59
    assert _status(fake)["failed_runs_in_a_row"] == 2
    assert _status(fake)["totals"]["failed_runs"] == 2


def test_a_new_file_or_a_deleted_backoff_ends_the_wait(fake):
    _drop(fake, "down.dcm")
    assert ds.run(fake) == ds.EX_TEMPFAIL
    state = ds.read_backoff(fake)
    assert ds.backoff_remaining(fake, state, state["next_attempt"] - 5) > 0
    os.utime(fake["outbox"], (state["outbox_mtime"] + 1, state["outbox_mtime"] + 1))
    assert ds.backoff_remaining(fake, state, state["next_attempt"] - 5) == 0

    os.unlink(os.path.join(fake["outbox"], "down.dcm"))
    _drop(fake, "up.dcm")
    assert ds.run(fake) == ds.EX_OK
    assert ds.read_backoff(fake) == {}
    assert not os.path.exists(os.path.join(fake["state_dir"], "backoff"))
    assert _status(fake)["failed_runs_in_a_row"] == 0


def test_the_textfile_collector_gets_counters_that_add_up(fake, tmp_path):
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    config = dict(fake, textfile_dir=str(textfiles))
    for name in ("a.dcm", "b.dcm", "refuse.dcm"):
        _drop(config, name)
    assert ds.run(config) == ds.EX_OK
    _drop(config, "c.dcm")
    assert ds.run(config) == ds.EX_OK
    text = (textfiles / "dicom_send_archive.prom").read_text()
    values = dict(line.rsplit(" ", 1) for line in text.splitlines()
                  if not line.startswith("#"))
    label = '{destination="archive"}'
    assert values["dicom_send_files_sent_total" + label] == "3"
    assert values["dicom_send_bytes_sent_total" + label] == str(3 * len(DICOM))
    assert values["dicom_send_files_quarantined_total" + label] == "1"
    assert values["dicom_send_up" + label] == "1"
    assert float(values["dicom_send_last_success_timestamp_seconds" + label]) > NOW
    assert "# TYPE dicom_send_files_sent_total counter" in text
    assert not list(textfiles.glob("*.tmp"))


def test_main_reports_a_broken_configuration(tmp_path, capsys):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"name": "x"}))
    assert ds.main([str(path)]) == ds.EX_CONFIG
    assert "lacks" in capsys.readouterr().out


def test_check_mode_lists_problems(fake, tmp_path, capsys):
    path = tmp_path / "archive.json"
    path.write_text(json.dumps(dict(fake, tls_files={"key": str(tmp_path / "nokey")})))
    assert ds.main(["--check", str(path)]) == ds.EX_CONFIG
    assert "cannot read the TLS key file" in capsys.readouterr().err


def test_module_docstring_names_the_exit_statuses():
    assert "75" in ds.__doc__ and "78" in ds.__doc__
    assert textwrap.dedent(ds.__doc__).startswith("Send the DICOM files")
