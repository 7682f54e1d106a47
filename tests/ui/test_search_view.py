"""AppTest of the Sweep view's search: it runs, ranks trials best first, draws parallel
coordinates, slices and a heatmap whose points open runs; its link reopens the same search
from the store without training; bad ranges and link values are explained."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from neurondash import Config
from neurondash.identity import run_key
from neurondash.search.spec import STARTUP_TRIALS
from neurondash.store import shared_store
from neurondash.ui.views import sweep as sweep_view

from .markdown import rendered, texts
from .test_app import SMALL, charts, fields, open_app, show

GRID = "lr=0.01,0.1\nact=tanh,relu"


def search_in_tab(at, text: str, method: str = "grid", **numbers):
    """Write a search in the Sweep tab and run it, as a user does; returns what the
    session holds: (spec, its SearchLog)."""
    at.text_area(key="search").input(text).run()
    at.selectbox(key="method").set_value(method).run()
    for key, value in numbers.items():
        at.number_input(key=key).set_value(value).run()
    at.button(key="search_run").click().run()
    assert not at.exception
    return at.session_state["sweep"]


def leaderboard_table(at):
    return next(d.value for d in at.dataframe if {"trial", "link"} <= set(d.value.columns))


def test_a_search_runs_ranks_its_trials_and_every_chart_opens_runs():
    at = open_app(SMALL, tab="Sweep")
    spec, log = search_in_tab(at, GRID)
    results = log.results
    assert len(log.runs) == 4 and len(results) == 4
    board = leaderboard_table(at)
    assert list(board["val_loss"]) == sorted(board["val_loss"])
    assert "val_loss_sd" not in board, "no spread column without repeats"
    expected = {f"?{Config(depth=2, width='16', steps=150, lr=lr, act=act).to_query()}"
                for lr in (0.01, 0.1) for act in ("tanh", "relu")}
    assert set(board["link"]) == expected
    best = min(results.values(), key=lambda r: r["val_loss"])
    assert any(f"{best['val_loss']:.4f}" in m.value for m in at.success)
    drawn = [(s, t) for s, t in charts(at) if "link" in fields(s)]
    kinds = {"parallel": 0, "slice": 0, "heatmap": 0}
    for spec_dict, tables in drawn:
        names = fields(spec_dict)
        if "position" in names:
            kinds["parallel"] += 1
        elif "colour" in names:
            kinds["heatmap"] += 1
            cells = tables[0].to_pandas()
            assert cells["best"].sum() == 1 and cells.loc[cells["best"], "link"].iloc[0] in \
                expected
            assert all(label.replace(".", "").isdigit() for label in cells["label"])
        else:
            kinds["slice"] += 1
        assert {link for t in tables if "link" in t.column_names
                for link in t.column("link").to_pylist()} <= expected
    assert kinds == {"parallel": 1, "slice": 2, "heatmap": 1}
    assert not [s for s, _ in charts(at) if "verdict" in fields(s)], "4 trials: no importances"
    assert any("this search has 4: to see it" in c.value for c in at.caption)


def test_what_mattered_is_drawn_from_ten_whole_trials():
    at = open_app(SMALL, tab="Sweep")
    search_in_tab(at, "lr=0.01,0.03,0.1,0.3,1\nact=tanh,relu")
    (importance,) = [t[0].to_pandas() for s, t in charts(at) if "importance" in fields(s)
                     and "verdict" in fields(s)]
    assert set(importance["setting"]) == {"lr", "act"}
    assert importance["importance"].sum() == pytest.approx(1.0)
    small = open_app(SMALL, tab="Sweep")
    small.text_area(key="search").input(GRID).run()  # the plan says so before Run
    small.selectbox(key="method").set_value("grid").run()
    assert "**What mattered** needs 10 trials trained to their full length; this plan " \
        "draws 4." in texts(small.markdown)
    search_in_tab(small, GRID)  # 4 combinations: no chart, and what would give one
    assert not [s for s, _ in charts(small) if "importance" in fields(s)]
    assert "**What mattered** needs at least 10 trials trained to their full length; this " \
        "search has 4: to see it, search a larger grid." in texts(small.caption)


def test_a_search_link_opens_the_same_search_from_the_store_without_training(monkeypatch):
    link = SMALL | {"view": "Sweep", "search": GRID, "method": "grid", "repeats": "2"}
    at = open_app(link)
    assert at.text_area(key="search").value == GRID, "the link sets the search's controls"
    assert at.number_input(key="repeats").value == 2
    at.button(key="search_run").click().run()
    board = leaderboard_table(at)

    def no_pool():
        raise AssertionError("the link trained")

    monkeypatch.setattr(sweep_view, "_sweep_pool", no_pool)
    shared = open_app(link)
    assert not shared.exception
    again = leaderboard_table(shared)
    assert list(again["trial"]) == list(board["trial"])
    assert list(again["val_loss"]) == list(board["val_loss"])
    assert (again["repeats"] == 2).all() and again["val_loss_sd"].notna().all()


def test_a_search_over_an_uploaded_word_list_trains_on_that_list():
    at = open_app(SMALL, tab="Sweep")
    at.selectbox(key="task").set_value("words").run()
    words = "\n".join(f"{a}{b}{c}" for a in "abcd" for b in "xyz" for c in "eo").encode()
    uploader = next(u for u in at.get("file_uploader") if u.proto.label.startswith("word"))
    uploader.set_value(("words.txt", words, "text/plain")).run()
    spec, log = search_in_tab(at, "lr=0.01,0.1")
    results = log.results
    assert spec.base.task == "words" and len(results) == 2
    assert all(r["status"] == "finished" for r in results.values())
    # A uniform guess over this list's vocabulary ('.' + 9 letters): ln 10.
    assert all(abs(r["expected_initial_loss"] - math.log(10)) < 1e-9 for r in results.values())


def test_ranges_that_do_not_apply_are_left_out_and_2d_feature_sets_are_searched():
    at = open_app(SMALL | {"task": "circles"}, tab="Sweep")
    spec, log = search_in_tab(
        at, "features=x1,x2; x2sq,x1sq\ncontext=choice(3,5)\nlr=loguniform(0,1)")
    said = texts(at.warning)
    assert "context does not apply to task circles" in said
    assert "positive low bound" in said
    assert [p.config.features for p in log.runs] == ["x1,x2", "x1sq,x2sq"]
    assert all(r["status"] == "finished" for r in log.results.values())
    # The default ranges' character-task lines are dropped without a word on a 2-D task
    # (two yellow boxes greeted every moons student); the rest is searched.
    fresh = open_app(SMALL | {"task": "circles"}, tab="Sweep")
    assert "does not apply" not in texts(fresh.warning)
    assert "**If you press Run search now:** TPE search: 20 trials." in texts(fresh.markdown)


def test_one_bad_value_is_left_out_of_its_line_and_the_others_are_searched():
    at = open_app(SMALL, tab="Sweep")
    spec, log = search_in_tab(at, "lr=0.1,100,0.03\nlr=0.5")
    said = texts(at.warning)
    assert "lr='100' is not allowed" in said and "other values are searched" in said
    assert "line 2: lr is already searched on line 1" in said
    assert sorted(p.config.lr for p in log.runs) == [0.03, 0.1]


def test_lines_that_are_all_left_out_say_so_once_and_a_bracket_is_named():
    """'lr=loguniform(0.1,' was refused as a value 'loguniform(0.1', and a search left
    with no line also said 'search 1 to 8 settings at once (got 0)'."""
    at = open_app(SMALL, tab="Sweep")
    at.text_area(key="search").input("lr=loguniform(0.1,").run()
    said = texts(at.warning)
    assert "'lr=loguniform(0.1,': its brackets do not pair up" in said
    assert "got 0" not in said and "Search settings" not in said
    assert "Nothing is left to search: every line above was left out." in texts(at.info)
    assert "search_run" not in [b.key for b in at.button], "nothing to run"


def test_a_failing_search_is_reported_without_losing_the_page(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a worker process died")

    monkeypatch.setattr(sweep_view, "run_search", broken)
    at = open_app(SMALL, tab="Sweep")
    at.button(key="search_run").click().run()
    assert not at.exception
    assert any("a worker process died" in rendered(e.value) for e in at.error)
    assert at.session_state["runs"], "the trained dashboard is kept"


def test_a_search_cut_short_by_a_rerun_is_said_where_the_page_went(monkeypatch):
    """A setting or the tab changed while this page's search ran: Streamlit ends the
    script, and the search with it. The next draw says how far it got and where its runs
    are: in the Sweep tab when the search's settings changed, as a toast elsewhere; not
    when the same search is shown again (Stop: its leaderboard says it)."""
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    from neurondash.search.running import Planned

    def cut(spec, *args, log, **kwargs):
        log.runs.append(Planned(1, 0, spec.base))
        raise StopException()

    monkeypatch.setattr(sweep_view, "run_search", cut)
    at = open_app(SMALL, tab="Sweep")
    at.button(key="search_run").click().run()
    at.selectbox(key="act").set_value("relu").run()
    how_far = ("with 0 of its 20 trials finished and 1 cut short: what it finished is "
               "kept, and Run search with those settings goes on from there.")
    assert f"The settings changed, so the search of the previous ones stopped {how_far}" \
        in [rendered(i.value) for i in at.info]
    at.button(key="search_run").click().run()
    show(at, "Loss")
    assert [t.value for t in at.toast if t.value == "The search in the Sweep tab stopped "
            + how_far], [t.value for t in at.toast]
    show(at, "Sweep")  # the toast has gone: the tab says it too
    assert f"This search stopped when another tab opened: {how_far}" in [
        rendered(i.value) for i in at.info]
    at.button(key="search_run").click().run()
    at.run()  # the same search shown again: its leaderboard says it was stopped
    held = at.session_state["sweep"][1]
    held.version = "v1"  # as the store names what a stopped search holds
    at.query_params.pop("search_version", None)
    at.run()
    assert at.query_params["search_version"] == "v1"
    assert not [i for i in at.info if "search of the previous ones" in rendered(i.value)]


@pytest.mark.parametrize("params, said", [
    ({"trials": "9999"}, "trials='9999' is not allowed"),
    ({"method": "bogus"}, "method='bogus' is not a search method"),
    ({"repeats": "two"}, "repeats='two' is not allowed"),
])
def test_bad_search_values_in_a_link_are_explained(params, said):
    at = open_app(SMALL | params, tab="Sweep")
    assert not at.exception
    assert said in texts(at.warning)


def test_selected_trials_are_sent_to_compare_named_by_what_differs():
    at = open_app(SMALL, tab="Sweep")
    search_in_tab(at, "lr=0.01,0.1")
    board = leaderboard_table(at)
    at.session_state["search_table"] = {"selection": {"rows": [0, 1], "columns": [],
                                                      "cells": []}}
    at.run()
    at.button(key="search_compare").click().run()
    assert not at.exception and at.session_state["view"] == "Compare"
    assert set(at.session_state["compare_runs"]) == {link[1:] for link in board["link"]}
    (compared,) = [tables for spec, tables in charts(at)
                   if spec["encoding"].get("color", {}).get("field") == "run"]
    assert set(compared[0].column("run").to_pylist()) == {"lr=0.01", "lr=0.1"}


def test_use_its_settings_puts_the_best_trial_in_the_sidebar_and_keeps_the_search():
    at = open_app(SMALL, tab="Sweep")
    spec, _ = search_in_tab(at, "lr=loguniform(0.003,0.3)\ninit_scale=loguniform(0.3,3)",
                            method="random", trials=4, repeats=2)
    board = leaderboard_table(at)
    best = Config.from_query(board["link"].iloc[0].lstrip("?"))[0]
    at.button(key="search_use").click().run()
    assert not at.exception
    assert (at.session_state["lr"], at.session_state["init_scale"]) == (best.lr,
                                                                        best.init_scale)
    assert "This search is unchanged" in texts(at.info)
    assert f"the run of the trial's first seed ({best.seed})" in texts(at.info), \
        "the header's number is one seed's, the leaderboard's their mean"
    assert at.session_state["sweep"][0] == spec, "the same search, not one around the trial"
    assert list(leaderboard_table(at)["link"]) == list(board["link"])


def test_a_search_with_rungs_shows_where_each_trial_stopped_and_its_link_replays_it(
        monkeypatch):
    link = SMALL | {"view": "Sweep", "search": "lr=loguniform(0.003,0.3)\nact=tanh,relu",
                    "method": "tpe", "trials": "9", "rungs": "3", "search_seed": "2"}
    at = open_app(link)
    assert at.number_input(key="rungs").value == 3
    assert "the best half at each length, judged against the trials that reached it so " \
        "far, is continued 2x further" in " ".join(
        m.value for m in at.markdown)
    at.button(key="search_run").click().run()
    assert not at.exception
    board = leaderboard_table(at)
    assert "trained" in board and board["trained"].iloc[0] == "all 150"
    stopped = board[~board["trained"].str.startswith("all")]
    assert len(stopped) and all("until=" in link for link in stopped["link"])
    linked = {link for spec_dict, tables in charts(at) if "link" in fields(spec_dict)
              for t in tables if "link" in t.column_names for link in t.column("link").to_pylist()}
    assert linked and not any("until=" in link for link in linked), "charts: whole trials"

    def no_pool():
        raise AssertionError("the link trained")

    monkeypatch.setattr(sweep_view, "_sweep_pool", no_pool)
    shared = open_app(link)
    assert not shared.exception
    pd.testing.assert_frame_equal(leaderboard_table(shared), board)


def test_every_search_link_parameter_is_known_to_the_link_reader():
    """A search parameter the Config's link reader does not know is reported as unknown."""
    from neurondash.config import VIEW_PARAMS

    assert set(sweep_view.LINK_DEFAULTS) <= VIEW_PARAMS


def test_an_init_scale_by_depth_search_draws_theory_edge_of_chaos_over_its_trials():
    at = open_app(SMALL, tab="Sweep")
    spec, log = search_in_tab(at, "init_scale=0.2,1,5\ndepth=1,3")
    assert len(log.results) == 6
    maps = [tables for spec_dict, tables in charts(at) if "scale_low" in fields(spec_dict)]
    assert len(maps) == 1, "one edge-of-chaos map below the heatmap"
    cells = maps[0][0].to_pandas()
    assert sorted(cells["init_scale"].unique()) == [0.2, 1.0, 5.0]
    assert sorted(cells["depth"].unique()) == [1, 3]
    words = texts(at.markdown) + texts(at.caption)
    assert "6 ξ_c" in words and "critical init" in words
    at.text_area(key="search").input("init_scale=0.2,1,5\nact=tanh,relu").run()
    at.button(key="search_run").click().run()
    assert not [s for s, _ in charts(at) if "scale_low" in fields(s)], \
        "no depth axis: no map"


def test_the_edge_of_chaos_map_draws_for_a_2d_task_too():
    """A 2-D task has no unigram baseline: the map's trained/untrained line is drawn from
    its uniform guess instead (a search over moons once stopped the view on a KeyError)."""
    at = open_app({"task": "moons", "steps": "60", "width": "8"}, tab="Sweep")
    search_in_tab(at, "init_scale=0.3,3\ndepth=1,3")
    assert not at.exception
    assert not [e for e in at.error if "internal error" in e.value]
    maps = [tables for spec_dict, tables in charts(at) if "scale_low" in fields(spec_dict)]
    assert len(maps) == 1
    assert "uniform guess (0.693" in texts(at.caption)


@pytest.mark.parametrize("metric", ["val_loss", "val_acc"])
def test_the_leaderboard_caption_says_its_order_and_what_an_empty_number_is(metric):
    from neurondash.ui.views.search_board import METRICS, _board_words

    plain = _board_words(partial=False, diverged=0, metric=metric)
    assert "best first (" in plain and "diverged" not in plain
    said = _board_words(partial=True, diverged=2, metric=metric)
    assert "the whole ones before those stopped at an early rung" in said
    assert f"A {METRICS[metric]} of None is a trial that diverged (2" in said
    assert ("uniform guess" in said) == (metric != "val_acc"), "accuracy has no such clip"


def test_the_plan_says_how_many_stored_trials_a_search_starts_from():
    """A TPE search over lr, opened again after a first one: before Run, the page counts
    the stored trials its sampler is told first: the first search's, and the page's own
    run, whose lr lies in the range."""
    at = open_app(SMALL, tab="Sweep")
    at.text_area(key="search").input("lr=loguniform(0.01,1)").run()
    at.selectbox(key="method").set_value("tpe").run()
    at.number_input(key="trials").set_value(3).run()
    at.button(key="search_run").click().run()
    assert not at.exception
    spec, log = at.session_state["sweep"]
    searched = {p.config for p in log.runs if p.origin == "search"}
    own = run_key(spec.base, None) in shared_store()
    again = open_app(SMALL, tab="Sweep")
    again.text_area(key="search").input("lr=loguniform(0.01,1)").run()
    again.selectbox(key="method").set_value("tpe").run()
    assert f"It starts from {len(searched) + own} whole trials of this space" in texts(
        again.markdown)
    assert "refines near their best" not in texts(again.markdown), "fewer than the start-up"
    again.number_input(key="trials").set_value(STARTUP_TRIALS).run()
    again.button(key="search_run").click().run()
    assert "stored trial" in " ".join(e.value for e in again.success), "against the store"
    third = open_app(SMALL, tab="Sweep")
    third.text_area(key="search").input("lr=loguniform(0.01,1)").run()
    third.selectbox(key="method").set_value("tpe").run()
    assert (f"With {STARTUP_TRIALS} or more, TPE refines near their best from its first "
            "trial.") in texts(third.markdown)
    third.selectbox(key="method").set_value("random").run()
    assert "A random search does not learn from them (TPE does)" in texts(third.markdown)
    assert "It starts from" not in texts(third.markdown), "random is told nothing"
    third.text_area(key="search").input("lr=loguniform(2,5)").run()
    assert "It starts from" not in texts(third.markdown), "none in that space"
    assert "The store already holds" not in texts(third.markdown)


def test_the_plan_estimates_the_time_on_the_servers_workers(monkeypatch):
    """The estimate is the serial training time shared by the local pool's workers: a
    helper read '19 s' before a search that took 8 s on two workers."""
    import re

    monkeypatch.setattr(sweep_view.os, "cpu_count", lambda: 2)
    at = open_app(SMALL | {"steps": "3000"}, tab="Sweep")
    at.text_area(key="search").input(GRID).run()
    found = re.search(r"about (\d+) s of training in all, shared by this server's 2 worker "
                      r"processes: about (\d+) s on an otherwise idle server",
                      texts(at.markdown))
    assert found, texts(at.markdown)
    assert "about about" not in texts(at.markdown)
    whole, shared = map(int, found.groups())
    assert whole >= 4 and abs(shared - whole / 2) <= 1, (shared, whole)


def test_a_search_link_keeps_showing_what_it_showed_after_the_search_runs_on():
    """A colleague's link to a finished search showed a new best, with renumbered trials,
    once its sender pressed Run search again: the link now names its record's version."""
    link = SMALL | {"view": "Sweep", "search": "lr=loguniform(0.01,1)", "method": "tpe",
                    "trials": "3"}
    sender = open_app(link)
    sender.button(key="search_run").click().run()
    first = sender.query_params["search_version"]
    shared = leaderboard_table(sender)
    sender.button(key="search_run").click().run()  # it runs on: 3 more trials
    latest = sender.query_params["search_version"]
    assert latest != first and len(leaderboard_table(sender)) > len(shared)

    colleague = open_app(link | {"search_version": first})
    assert not colleague.exception
    board = leaderboard_table(colleague)
    assert list(board["link"]) == list(shared["link"])
    assert list(board["val_loss"]) == list(shared["val_loss"])
    assert "it has run on since" in texts(colleague.info)
    colleague.button(key="search_latest").click().run()
    assert colleague.query_params["search_version"] == latest
    assert len(leaderboard_table(colleague)) == len(leaderboard_table(sender))

    stale = open_app(link | {"search_version": "0123456789ab"})
    assert "is not a version of this search the run store keeps" in texts(stale.warning)
    assert stale.query_params["search_version"] == latest


def test_a_search_another_page_runs_shows_its_progress_and_cannot_be_started_twice():
    """A colleague opening a search's link while its sender's page ran it saw 'No run of
    this search is stored yet: press Run search', which invited a duplicate search."""
    from neurondash.search import SearchLog, search_key
    from neurondash.ui.views import search_running

    link = SMALL | {"view": "Sweep", "search": GRID, "method": "grid"}
    at = open_app(link)
    spec = sweep_view.SearchSpec(at.session_state["sweep"][0].base,
                                 at.session_state["sweep"][0].ranges, trials=20,
                                 method="grid")
    key = search_key(spec, None)
    log = SearchLog()
    search_running._RUNNING[key] = search_running.Running("another page", spec, log)
    try:
        watcher = open_app(link)
        assert "Another page is running this search now" in texts(watcher.info)
        assert watcher.button(key="search_run").disabled
        assert "No run of this search is stored yet" not in texts(watcher.info)
        assert not watcher.exception
    finally:
        del search_running._RUNNING[key]
    assert not open_app(link).button(key="search_run").disabled


def test_the_search_version_leaves_the_link_while_another_tab_is_open():
    """A link copied on another tab kept the search's version without its controls (they
    are the Sweep tab's), and opened the Sweep tab under a version of another search. The
    version leaves the link there and comes back with the Sweep tab."""
    at = open_app(SMALL, tab="Sweep")
    _, log = search_in_tab(at, GRID)
    assert log.version and at.query_params["search_version"] == log.version
    show(at, "Loss")
    assert "search_version" not in at.query_params
    show(at, "Sweep")
    assert at.query_params["search_version"] == log.version


def test_the_best_line_says_whether_the_search_beat_the_store_it_started_from():
    from neurondash.ui.views.search_board import against_store

    def board(rows):
        return pd.DataFrame(rows, columns=["trial", "val_loss", "origin", "whole"])

    assert against_store(board([[0, 1.0, "search", True]]), "val_loss") == ""
    assert against_store(board([[2, 0.9, "search", True], [0, 1.0, "store", True]]),
                         "val_loss") == (" It beats the best stored trial this search "
                                         "started from: 0.9000 against 1.0000.")
    assert against_store(board([[2, 0.002481, "search", True],
                                [0, 0.0025023, "store", True]]), "val_loss").endswith(
        "0.00248 against 0.00250."), "digits enough to tell them apart"
    assert "ties" in against_store(board([[2, 1.0, "search", True],
                                          [0, 1.0, "store", True]]), "val_loss")
    assert against_store(board([[0, 0.8, "store", True], [3, 0.95, "search", True],
                                [2, 0.9, "search", False]]), "val_loss") == (
        " It is a stored trial; this search's own best is 0.9500 (trial 3).")
    assert "none of this search's trials has run whole" in against_store(
        board([[0, 0.8, "store", True], [2, 0.9, "search", False]]), "val_loss")


def test_a_grid_plan_counts_its_combinations_and_greys_out_the_trials_box():
    """A grid runs every combination whatever the trials box says (16 stood beside a plan of
    9): the box is disabled for a grid, and the plan, labelled as the next press's, counts."""
    at = open_app(SMALL, tab="Sweep")
    at.text_area(key="search").input("lr=0.01,0.1,1\ninit_scale=0.5,1,2").run()
    at.selectbox(key="method").set_value("grid").run()
    assert at.number_input(key="trials").disabled
    assert "**If you press Run search now:** Grid search: 9 combinations." in texts(at.markdown)
    at.button(key="search_run").click().run()
    # Said again once the search is done: the next press finds its 9 trials stored.
    assert "The store already holds 9 whole trials of this space" in texts(at.markdown)
    assert "every combination is stored: it reads them and trains nothing" in texts(
        at.markdown)
    at.selectbox(key="method").set_value("random").run()
    assert not at.number_input(key="trials").disabled


def test_a_bound_past_the_range_is_searched_to_its_end_and_said():
    """lr=loguniform(0.01,100) left its whole line out; it is searched up to lr's 10."""
    at = open_app(SMALL, tab="Sweep")
    at.text_area(key="search").input("lr=loguniform(0.01,100)").run()
    assert ("Search line 1: the bound 100 is outside lr's range (a number from 1e-05 to 10), "
            "so the range ends at 10 instead") in texts(at.warning)
    assert "Left out of the search" not in texts(at.warning)
    assert "search_run" in [b.key for b in at.button]


def test_store_rows_say_what_trained_them():
    """A second student's search listed the first one's trials as 'store', alike with a run
    somebody opened on a page: each now says which (another search, a page, or this
    search's earlier press)."""
    first_spec, _ = search_in_tab(open_app(SMALL, tab="Sweep"), "lr=loguniform(0.01,1)",
                                  method="tpe", trials=3)
    own = run_key(first_spec.base, None) in shared_store()  # the page's run, in the range
    second = open_app(SMALL, tab="Sweep")
    search_in_tab(second, "lr=loguniform(0.01,1)", method="tpe", trials=4)
    origins = list(leaderboard_table(second)["origin"])
    assert origins.count("store · other search") == 3 and origins.count("search") == 4
    assert origins.count("store · a page") == own
    again = open_app(SMALL, tab="Sweep")
    search_in_tab(again, "lr=loguniform(0.01,1)", method="tpe", trials=4)
    origins = list(leaderboard_table(again)["origin"])
    assert origins.count("store · this search") == 4, "its own earlier press"
