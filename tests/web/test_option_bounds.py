"""Every numeric option's bounds are declared once and are the same everywhere.

For each option of the dream, zoom, video, atlas, batch, serve and classify tables: ``--help`` shows the
bounds of its data, ``/api/options`` gives them, the OpenAPI schema's ``minimum``/``maximum``
equal them, and a value just outside is refused by the command line (exit 2, one line) and by
the API (422) with the option's own message, so with the same bound.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from inceptionism.classify import CLASSIFY_OPTIONS
from inceptionism.cli import cli
from inceptionism.engine.options import CONVENTION_OPTIONS, OPTIONS, Option, shown_number
from inceptionism.errors import InvalidParameterError
from inceptionism.render.atlas import ATLAS_OPTIONS
from inceptionism.render.batch import BATCH_OPTIONS
from inceptionism.render.live import LIVE_OPTIONS
from inceptionism.render.videoplan import VIDEO_OPTIONS
from inceptionism.render.zoom import ZOOM_OPTIONS
from inceptionism.web.config import ServerSettings
from inceptionism.web.options import SERVE_OPTIONS

STATIC = Path(__file__).resolve().parents[2] / "src" / "inceptionism" / "web" / "static"
TABLES = {
    "dream": OPTIONS,
    "zoom": ZOOM_OPTIONS,
    "video": VIDEO_OPTIONS,
    "atlas": ATLAS_OPTIONS,
    "live": LIVE_OPTIONS,
    "batch": BATCH_OPTIONS,
    "serve": SERVE_OPTIONS,
    "classify": CLASSIFY_OPTIONS,
}
SERVE_FLAGS = ("port", "workers")  # the other server settings are INCEPTIONISM_* variables only
NUMERIC = [
    (command, option)
    for command, table in TABLES.items()
    for option in table.values()
    if option.numeric and (command != "serve" or option.name in SERVE_FLAGS)
]
IDS = [f"{command}-{option.name}" for command, option in NUMERIC]
API_GROUPS = ("dream", "zoom", "video")  # the options a job's params take
ATLAS_QUERY = ("size", "steps")  # the atlas options GET /api/atlas takes


def outside(option: Option) -> list[int | float]:
    """A value just under the bounds and one just over them."""
    if option.kind is int:
        return [int(option.minimum) - 1, int(option.maximum) + 1]
    low = float(option.minimum) if option.open_below else option.minimum - 0.5
    return [low, option.maximum + 0.5]


def refusal(option: Option, value: int | float) -> str:
    """The option's own message for ``value``."""
    with pytest.raises(InvalidParameterError) as info:
        option.check(option.name, value)
    return str(info.value)


def command_line(command: str, option: Option, value: object, tmp_path: Path) -> list[str]:
    """A command line of ``command`` giving ``value`` to ``option``: refused before it reads or writes anything."""
    given = [option.flag, str(value)]
    return {
        "dream": ["dream", *given, "-o", str(tmp_path / "x.png")],
        "zoom": ["zoom", *given, "-o", str(tmp_path / "x.mp4")],
        "video": ["video", str(tmp_path / "in.mp4"), *given, "-o", str(tmp_path / "x.mp4")],
        "atlas": ["atlas", *given, "-o", str(tmp_path / "x.png")],
        "batch": ["batch", str(tmp_path / "in.png"), "-o", str(tmp_path / "out"), *given],
        "serve": ["serve", *given, "--data-dir", str(tmp_path / "studio")],
        "classify": ["classify", str(tmp_path / "in.png"), *given],
        "live": ["live", *given],
    }[command]


def test_every_numeric_option_has_both_bounds_and_no_range_in_its_help_line():
    assert len(NUMERIC) == 38
    for command, option in NUMERIC:
        assert option.minimum is not None and option.maximum is not None, (command, option.name)
        assert option.minimum < option.maximum, (command, option.name)
        assert not re.search(r"\d\.\.\d|up to \d|\(\d+(\.\.|,|\))", option.help), (command, option.name, option.help)


def test_the_bounds_text_is_made_from_the_data():
    assert OPTIONS["octaves"].bounds == "1..16"
    assert OPTIONS["octave_scale"].bounds == "> 1 and <= 8"
    assert OPTIONS["jitter"].bounds == "0..1024 px"
    assert OPTIONS["memory_budget"].bounds == "1..16384 MB"
    assert VIDEO_OPTIONS["start"].bounds == "0..1000000 s"
    assert ZOOM_OPTIONS["rotate"].bounds == "-180..180 degrees"
    assert SERVE_OPTIONS["preview_interval"].bounds == "0.05..10 s"
    assert OPTIONS["model"].bounds == ""


@pytest.mark.parametrize(("command", "option"), NUMERIC, ids=IDS)
def test_help_shows_the_bounds_of_the_data(command, option):
    group = cli.commands[command]
    ctx = click.Context(group, info_name=command)
    (param,) = [param for param in group.params if param.name == option.name]
    assert param.type.min == option.minimum and param.type.max == option.maximum
    assert param.type.min_open == option.open_below
    record = " ".join(param.get_help_record(ctx)[1].split())
    low, high = shown_number(option.minimum), shown_number(option.maximum)
    expected = f"> {low} and <= {high}" if option.open_below else f"{low}..{high}"
    assert record.endswith(f"{expected} {option.unit}".rstrip() + "]"), record
    help_text = " ".join(CliRunner().invoke(cli, [command, "--help"]).output.split())
    assert record in help_text


@pytest.mark.parametrize(("command", "option"), NUMERIC, ids=IDS)
def test_the_command_line_refuses_a_value_just_outside_in_one_line(command, option, tmp_path):
    for value in outside(option):
        result = CliRunner().invoke(cli, command_line(command, option, value, tmp_path))
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        assert result.stderr == f"Error: {refusal(option, value)} ({option.flag})\n"
        assert list(tmp_path.iterdir()) == []


def test_a_refusal_names_the_bound_it_crossed():
    assert refusal(OPTIONS["octaves"], 17) == "octaves must be in 1..16, got 17"
    assert refusal(OPTIONS["octaves"], 0) == "octaves must be >= 1, got 0"
    assert refusal(OPTIONS["octave_scale"], 1.0) == "octave_scale must be > 1.0, got 1.0"
    assert refusal(ZOOM_OPTIONS["fps"], 120.5) == "fps must be > 0.0 and <= 120.0, got 120.5"
    assert refusal(VIDEO_OPTIONS["blend"], 1.5) == "blend must be non-negative and <= 1.0, got 1.5"
    assert refusal(SERVE_OPTIONS["workers"], 17) == "workers must be in 1..16, got 17"
    assert refusal(BATCH_OPTIONS["threads"], 0) == "threads must be >= 1, got 0"


def test_api_options_give_the_bounds_of_every_numeric_option(client):
    listed = {(option["group"], option["name"]): option for option in client.get("/api/options").json()}
    assert {group for group, _ in listed} == {"dream", "zoom", "video", "atlas", "live"}
    for group in ("dream", "zoom", "video", "atlas", "live"):
        for option in TABLES[group].values():
            shown = listed[(group, option.name)]
            if option.numeric:
                assert (shown["minimum"], shown["maximum"]) == (option.minimum, option.maximum), option.name
                assert shown["open_below"] == option.open_below
                assert shown["bounds"] == option.bounds
                assert shown["step"] == (option.increment or (1 if option.kind is int else None))
            assert shown["default"] == (list(option.default) if isinstance(option.default, tuple) else option.default)
    assert listed[("dream", "octaves")]["typical"] == [1, 8]
    assert listed[("dream", "param")]["choices"] == ["fourier", "pixel"]
    assert listed[("dream", "jitter")]["unit"] == "px"


def number_schema(schema: dict) -> dict:
    """The number branch of an optional field's schema (``anyOf: [number, null]``)."""
    return next(branch for branch in schema.get("anyOf", [schema]) if branch.get("type") in ("integer", "number"))


def test_the_openapi_schema_has_the_bounds_of_every_numeric_option(client):
    openapi = client.get("/openapi.json").json()
    body = openapi["paths"]["/api/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    params = openapi["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]["properties"]["params"]
    assert params["contentMediaType"] == "application/json"
    kinds = {schema["title"]: schema["properties"] for schema in params["contentSchema"]["anyOf"]}
    assert set(kinds) == {"DreamParams", "ZoomParams", "VideoParams"}
    for title, group in (("DreamParams", "dream"), ("ZoomParams", "zoom"), ("VideoParams", "video")):
        for option in [*OPTIONS.values(), *TABLES[group].values()]:
            if option.numeric:
                schema = number_schema(kinds[title][option.name])
                low = "exclusiveMinimum" if option.open_below else "minimum"
                bounds = (float(option.minimum), float(option.maximum))  # FastAPI's OpenAPI holds floats
                assert (schema[low], schema["maximum"]) == bounds, (title, option.name)
    query = {p["name"]: p["schema"] for p in openapi["paths"]["/api/atlas"]["get"]["parameters"]}
    body = openapi["components"]["schemas"]["AtlasAsk"]["properties"]
    for name in ATLAS_QUERY:
        option = ATLAS_OPTIONS[name]
        assert (query[name]["minimum"], query[name]["maximum"]) == (option.minimum, option.maximum)
        assert (body[name]["minimum"], body[name]["maximum"]) == (option.minimum, option.maximum)
    server = ServerSettings.model_json_schema()["properties"]
    for option in SERVE_OPTIONS.values():
        assert (server[option.name]["minimum"], server[option.name]["maximum"]) == (option.minimum, option.maximum)


API_CASES = [  # the preprocessing of networks from outside: not in the studio (refused whatever the value)
    (group, option)
    for group in API_GROUPS
    for option in TABLES[group].values()
    if option.numeric and option.name not in CONVENTION_OPTIONS
]


@pytest.mark.parametrize(("group", "option"), API_CASES, ids=[f"{g}-{o.name}" for g, o in API_CASES])
def test_the_api_refuses_a_value_just_outside_with_the_same_message(make_client, clip, group, option):
    client = make_client(max_side=8192, max_frames=100_000)  # the studio's own limits lower no option here
    files = {"image": ("clip.mp4", clip.read_bytes(), "video/mp4")} if group == "video" else None
    base = {} if group == "video" else {"noise": "32x32"}
    for value in outside(option):
        sent = float(value) if option.kind is float else value
        data = {"kind": group, "params": json.dumps({**base, option.name: sent})}
        response = client.post("/api/jobs", data=data, files=files)
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == refusal(option, sent)


@pytest.mark.parametrize("name", ATLAS_QUERY)
def test_the_atlas_api_refuses_a_value_just_outside_with_the_same_message(client, name):
    option = ATLAS_OPTIONS[name]
    for value in outside(option):
        asked = {"model": "tiny", "layer": "conv1", name: value}
        for response in (client.get("/api/atlas", params=asked), client.post("/api/atlas", json=asked)):
            assert response.status_code == 422, response.text
            assert response.json()["detail"] == refusal(option, value)


def test_server_settings_refuse_a_value_just_outside_with_the_same_message(monkeypatch):
    for option in SERVE_OPTIONS.values():
        for value in outside(option):
            with pytest.raises(ValidationError) as info:
                ServerSettings(**{option.name: value})
            assert info.value.errors()[0]["msg"] == f"Value error, {refusal(option, value)}"
    monkeypatch.setenv("INCEPTIONISM_QUEUE_LIMIT", "1001")
    result = CliRunner().invoke(cli, ["serve"])
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: INCEPTIONISM_QUEUE_LIMIT: queue_limit must be in 1..1000, got 1001\n",
    )


def test_the_page_declares_no_bound_of_its_own():
    page = (STATIC / "index.html").read_text()
    inputs = re.findall(r"<input [^>]*>", page)
    bounded = [tag for tag in inputs if re.search(r'\b(min|max)="', tag)]
    assert bounded == [tag for tag in inputs if 'id="brush-size"' in tag]  # the mask brush: no option
    script = "\n".join(path.read_text() for path in sorted(Path(str(STATIC)).rglob("*.js")))  # every module
    for number in ("1024", "4096", "8192", "16384"):
        assert not re.search(rf"\b{number}\b", script), number
    assert "applyBounds" in script and "/api/options" in script


def test_float_bounds_shown_in_help_read_back_as_the_data():
    for table in TABLES.values():
        for option in table.values():
            if option.numeric and option.kind is float:
                low, high = shown_number(option.minimum), shown_number(option.maximum)
                assert math.isclose(float(low), option.minimum) and math.isclose(float(high), option.maximum)


def test_a_range_the_readme_tables_spell_is_the_data():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    flags = {option.flag: option for table in TABLES.values() for option in table.values()}
    checked = []
    for line in readme.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`-"):
            continue
        for flag in re.findall(r"--[a-z-]+", cells[0]):
            option = flags.get(flag)
            spelt = re.search(r"\((-?[\d.]+)\.\.(-?[\d.]+)\)", cells[2])
            if option is not None and option.minimum is not None and spelt:
                assert spelt.groups() == (shown_number(option.minimum), shown_number(option.maximum)), flag
                checked.append(flag)
    assert sorted(checked) == ["--blend", "--mean", "--overlap", "--step-size"]


PAGE_INPUTS = {  # input id -> (group, option) whose bounds it takes
    "octaves": ("dream", "octaves"),
    "octave-scale": ("dream", "octave_scale"),
    "steps": ("dream", "steps"),
    "step-size": ("dream", "step_size"),
    "jitter": ("dream", "jitter"),
    "max-size": ("dream", "max_size"),
    "frames": ("zoom", "frames"),
    "zoom": ("zoom", "zoom"),
    "rotate": ("zoom", "rotate"),
    "blend": ("video", "blend"),
    "start": ("video", "start"),
    "end": ("video", "end"),
    "live-blend": ("live", "blend"),
    "atlas-size": ("atlas", "size"),
    "atlas-steps": ("atlas", "steps"),
}


@pytest.mark.browser
def test_the_page_takes_its_inputs_bounds_from_the_options(chromium, studio_url):
    from browser import TIMEOUT_MS, watched_page

    page, problems = watched_page(chromium.new_context(viewport={"width": 1280, "height": 800}))
    page.goto(f"{studio_url}/")
    page.wait_for_function("() => document.querySelector('#status').textContent.includes('Ready')", timeout=TIMEOUT_MS)
    shown = page.evaluate(
        "ids => Object.fromEntries(ids.map(id => { const input = document.getElementById(id);"
        " return [id, [input.type, input.min, input.max, input.step]]; }))",
        list(PAGE_INPUTS),
    )
    for element, (group, name) in PAGE_INPUTS.items():
        option = TABLES[group][name]
        kind, low, high, step = shown[element]
        span = option.typical if kind == "range" and option.typical else (option.minimum, option.maximum)
        assert (float(low), float(high)) == (float(span[0]), float(span[1])), element
        increment = option.increment or (1 if option.kind is int else None)
        assert step == ("any" if increment is None else shown_number(increment)), element
    page.fill("#atlas-size", "513")
    page.click("#atlas-show")
    expected = f"Atlas: {refusal(ATLAS_OPTIONS['size'], 513)}"
    page.wait_for_function(
        "text => document.querySelector('#atlas-status').textContent === text", arg=expected, timeout=TIMEOUT_MS
    )
    assert problems == [] or all("422" in problem for problem in problems), problems
