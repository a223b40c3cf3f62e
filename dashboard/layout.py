"""The page's component tree. No callbacks here."""

from __future__ import annotations

from dash import dcc, html

from dashboard import ids
from dashboard.figures import message_figure
from dashboard.graph_config import graph_config
from dashboard.i18n import LANGUAGES, N_, _, current_language
from dashboard.layout_explain import explain_sections, sort_options
from dashboard.layout_export import export_row
from dashboard.modes import Compare, KernelMode, KernelScale, Look, ScaleMode, SortKey


def kernel_view_options(rgb_available: bool) -> list[dict]:
    """The kernel-view choices; RGB only where the layer reads three channels."""
    return [
        {"label": _("every kernel"), "value": KernelMode.GRID},
        {"label": _("kernel norms (overview)"), "value": KernelMode.NORMS},
        {"label": _("RGB kernels"), "value": KernelMode.RGB, "disabled": not rgb_available},
    ]


def _control(label: str, component) -> html.Div:
    return html.Div([html.Label(label, className="control-label"), component], className="control")


def _upload(component_id: str, prompt: str, accept: str, max_bytes: int) -> dcc.Upload:
    return dcc.Upload(
        id=component_id,
        children=html.Div(
            [
                prompt,
                html.Span(" " + _("(≤ {mb} MB)").format(mb=max_bytes // 2**20), className="muted"),
            ]
        ),
        accept=accept,
        max_size=max_bytes,
        multiple=False,
        className="upload",
        className_active="upload upload-active",
        className_reject="upload upload-reject",
    )


def _graph(component_id: str, text: str, class_name: str) -> dcc.Loading:
    graph = dcc.Graph(
        id=component_id,
        figure=message_figure(_(text)),
        config=graph_config(),
        className=class_name,
        clear_on_unhover=True,
    )
    return dcc.Loading(graph, type="dot", delay_show=250)


def compare_controls(samples: list[tuple[str, str]]) -> html.Div:
    """ "Compare with" (off, this image mirrored, or a sample) and the shared-scale box."""
    options = [
        {"label": _("off"), "value": Compare.OFF},
        {"label": _("mirror of this image"), "value": Compare.MIRROR},
        *({"label": label, "value": key} for key, label in samples),
    ]
    return html.Div(
        [
            html.Div(
                [
                    html.Label(_("Compare with"), htmlFor=ids.COMPARE_SELECT),
                    dcc.Dropdown(
                        id=ids.COMPARE_SELECT,
                        options=options,
                        value=Compare.OFF,
                        clearable=False,
                        searchable=False,
                        className="compare",
                    ),
                ],
                className="sort-row",
                title=_("Show the selected channel's map for a second image below the first"),
            ),
            dcc.Checklist(
                id=ids.COMPARE_SCALE,
                options=[{"label": _("same colour scale for both"), "value": ScaleMode.SHARED}],
                value=[],
                inline=True,
            ),
        ],
        className="options",
    )


def compare_row() -> html.Div:
    """The compare map under the first one, its caption on the left; hidden while off."""
    caption = _(
        "Below the map above: the same layer, weights and channel on a second image, beside "
        "that image as the model saw it. Hover for raw values. With the same colour scale "
        "both maps span the union of their ranges, so equal colours mean equal values; "
        "otherwise each map spans its own range."
    )
    return html.Div(
        [
            html.P(caption, className="muted caption"),
            _graph(ids.COMPARE_DETAIL, _("Choose an image to compare with."), "detail"),
        ],
        id=ids.COMPARE_ROW,
        className="detail-row",
        hidden=True,
    )


def prepare_row() -> html.Div:
    """A big model's first pass on a worker: its stage, progress, cancel and retry
    (callbacks/prepare.py shows it only when a worker must run something first)."""
    return html.Div(
        [
            html.Button(_("Run it on a worker"), id=ids.PREPARE_START, n_clicks=0),
            html.Button(
                _("Cancel"),
                id=ids.PREPARE_CANCEL,
                n_clicks=0,
                disabled=True,
                **{"data-cancelled": _("Cancelled. Press “Run it on a worker” to start again.")},
            ),
            html.Progress(id=ids.PREPARE_PROGRESS, hidden=True),
            html.Span(id=ids.PREPARE_STAGE, className="muted", role="status"),
            # shown while the job runs and its worker has said nothing yet (style.css)
            html.Span(
                _("Waiting for a free worker…"), id=ids.PREPARE_WAIT, className="muted", hidden=True
            ),
            html.Span(id=ids.PREPARE_STATUS, className="muted", role="status"),
        ],
        id=ids.PREPARE_BOX,
        className="job-row",
        hidden=True,
    )


def build_layout(
    models: list[tuple[str, str]],
    default_model: str,
    samples: list[tuple[str, str]],
    default_sample: str,
    max_upload_bytes: int,
    max_weights_bytes: int,
    allow_download: bool = False,
    session_id: str | None = None,
) -> html.Div:
    """The page: controls on top, kernels and feature maps side by side, detail below.

    ``session_id`` (fresh per page load) lets the server keep one visitor's uploads and
    forward passes apart from everyone else's.
    """
    controls = html.Div(
        [
            _control(
                _("Model"),
                dcc.Dropdown(
                    id=ids.MODEL_SELECT,
                    options=[{"label": label, "value": name} for name, label in models],
                    value=default_model,
                    clearable=False,
                ),
            ),
            _control(_("Conv layer"), dcc.Dropdown(id=ids.LAYER_SELECT, clearable=False)),
            _control(
                _("Input image"),
                dcc.Dropdown(
                    id=ids.SAMPLE_SELECT,
                    options=[{"label": label, "value": key} for key, label in samples],
                    value=default_sample,
                    clearable=False,
                ),
            ),
            _control(
                _("Your image"),
                _upload(
                    ids.IMAGE_UPLOAD,
                    _("Drop or click to upload PNG/JPEG/WebP/BMP/GIF"),
                    "image/png,image/jpeg,image/webp,image/bmp,image/gif",
                    max_upload_bytes,
                ),
            ),
            _control(
                _("Your weights"),
                _upload(
                    ids.WEIGHTS_UPLOAD,
                    _("Drop .safetensors or weights-only .pt for this model"),
                    ".safetensors,.pt,.pth",
                    max_weights_bytes,
                ),
            ),
        ],
        className="controls",
    )
    map_options = html.Div(
        [
            dcc.RadioItems(
                id=ids.SCALE_SELECT,
                options=[
                    {"label": _("colour per map"), "value": ScaleMode.TILE},
                    {"label": _("one colour scale for all maps"), "value": ScaleMode.SHARED},
                ],
                value=ScaleMode.TILE,
                inline=True,
            ),
            html.Div(
                [
                    html.Label(_("order"), htmlFor=ids.SORT_SELECT),
                    dcc.Dropdown(
                        id=ids.SORT_SELECT,
                        options=sort_options(),
                        value=SortKey.CHANNEL,
                        clearable=False,
                        searchable=False,
                        className="sort",
                    ),
                ],
                className="sort-row",
                title=_("Sort the maps (and the kernels with them) by a statistic, largest first"),
            ),
        ],
        className="options",
    )
    kernel_options = html.Div(
        [
            dcc.RadioItems(
                id=ids.KERNEL_VIEW,
                options=kernel_view_options(rgb_available=False),
                value=KernelMode.GRID,
                inline=True,
            ),
            dcc.RadioItems(
                id=ids.KERNEL_SCALE,
                options=[
                    {"label": _("colour per kernel"), "value": KernelScale.TILE},
                    {"label": _("per output channel"), "value": KernelScale.CHANNEL},
                    {"label": _("per layer"), "value": KernelScale.LAYER},
                ],
                value=KernelScale.TILE,
                inline=True,
            ),
            dcc.Checklist(
                id=ids.LOOK,
                options=[{"label": _("tutorial look"), "value": Look.TUTORIAL}],
                value=[],
                inline=True,
            ),
        ],
        className="options",
    )
    panels = html.Div(
        [
            html.Section(
                [
                    html.H2(_("Kernels: the model's eyes")),
                    html.Span(
                        _(
                            "each tile: the weights one output channel applies to one input "
                            "channel (red +, blue −)"
                        ),
                        className="muted caption inline",
                    ),
                    kernel_options,
                    html.Div(
                        [
                            html.Button(_("◀ previous channels"), id=ids.PAGE_PREV, n_clicks=0),
                            html.Button(_("next channels ▶"), id=ids.PAGE_NEXT, n_clicks=0),
                        ],
                        id=ids.KERNEL_PAGER,
                        className="pager",
                        hidden=True,
                    ),
                    _graph(ids.KERNEL_GRID, N_("Loading kernels…"), "grid"),
                ],
                className="panel",
            ),
            html.Section(
                [
                    html.H2(_("Feature maps: what it sees")),
                    html.Span(
                        _("each tile: one channel's response to the image (bright = strong)"),
                        className="muted caption inline",
                    ),
                    map_options,
                    _graph(ids.FEATURE_GRID, N_("Loading feature maps…"), "grid"),
                ],
                className="panel",
            ),
        ],
        className="panels",
    )
    detail = html.Section(
        [
            html.H2(_("Selected channel: its kernels and its feature map, full resolution")),
            compare_controls(samples),
            html.Div(
                [
                    _graph(ids.CHANNEL_KERNELS, N_("Click a kernel or a feature map."), "detail"),
                    _graph(ids.FEATURE_DETAIL, N_("Click a kernel or a feature map."), "detail"),
                ],
                className="detail-row",
            ),
            compare_row(),
            html.P(
                _(
                    "Left: the selected channel's kernels, one per input channel, with their "
                    "raw weights. Right: its feature map at full resolution (the conv's "
                    "output, before any activation) beside the input; click a pixel to "
                    "explain it below."
                ),
                className="muted caption",
            ),
            # how the image became the model's input, in words (set with the model)
            html.P(id=ids.PREPROCESSING, className="muted caption"),
            export_row(),
        ],
        id=ids.DETAIL_PANEL,
        className="panel wide",
    )
    return html.Div(
        [
            html.Header(
                [
                    html.H1("ConvScope"),
                    html.Span(
                        _(
                            "what a CNN's kernels look like, and what each one sees. Hover "
                            "for raw values; click a kernel or a map to select its channel."
                        ),
                        className="muted",
                    ),
                    dcc.RadioItems(
                        id=ids.LANG_SELECT,
                        options=[
                            {"label": name, "value": code} for code, name in LANGUAGES.items()
                        ],
                        value=current_language(),
                        inline=True,
                        className="lang",
                    ),
                ]
            ),
            controls,
            html.Div(id=ids.MODEL_NOTICE, className="notice", hidden=True),
            html.Div(id=ids.DOWNLOAD_STATUS, className="info", role="status"),
            prepare_row(),
            html.Div(id=ids.WEIGHTS_STATUS, className="info", role="status"),
            html.Div(id=ids.UPLOAD_STATUS, className="status", role="alert"),
            html.Div(id=ids.STATUS, className="status", role="alert"),
            html.Div(id=ids.URL_STATUS, className="status", role="status"),
            # the model's top classes share the layer's line: seen without pushing the grids
            html.Div(
                [
                    html.Div(id=ids.LAYER_INFO, className="info"),
                    html.Div(id=ids.PREDICTIONS, className="predictions"),
                ],
                className="info-row",
            ),
            panels,
            detail,
            *explain_sections(),
            dcc.Store(id=ids.LANG_RELOAD, data=None),
            dcc.Store(id=ids.CHANNEL_STORE, data=0),
            dcc.Store(id=ids.CHANNEL_PICKED, data=None),
            dcc.Store(id=ids.IMAGE_STORE, data=default_sample),
            dcc.Store(id=ids.WEIGHTS_STORE, data=None),
            dcc.Store(id=ids.SESSION_STORE, data=session_id),
            dcc.Store(id=ids.KERNEL_PAGE, data=None),
            dcc.Store(id=ids.SCROLL_SINK, data=None),
            dcc.Store(id=ids.GRID_SIZE, data=None),  # the grids' pixel size, measured on load
            dcc.Store(id=ids.FEATURE_ZOOM, data=False),  # real pixels shown after a zoom
            dcc.Store(id=ids.DETAIL_INPUT, data=None),  # which input image the detail draws
            # the view in the query string: callbacks push it, back/forward restore it
            dcc.Location(id=ids.URL, refresh=False),
            dcc.Store(id=ids.URL_VIEW, data=None),
            dcc.Store(id=ids.URL_WRITE, data=None),
            dcc.Store(id=ids.URL_CHANNEL, data=None),
            dcc.Store(id=ids.URL_ZOOM, data=None),
            dcc.Store(id=ids.LANG_STORE, data=current_language()),
            # a big model's first pass on a worker: asked for, then done (with Redis only)
            dcc.Store(id=ids.PREPARE_REQUEST, data=None),
            dcc.Store(id=ids.PREPARED, data=None),
            # read by assets/upload_limit.js to explain files the browser refuses
            html.Div(
                id=ids.UPLOAD_LIMITS,
                hidden=True,
                **{
                    "data-image": max_upload_bytes,
                    "data-weights": max_weights_bytes,
                    # {mb} is filled in by the script
                    "data-too-large": _("The file is larger than the {mb} MB limit."),
                },
            ),
            dcc.Interval(id=ids.DOWNLOAD_POLL, interval=1000, disabled=not allow_download),
            html.Footer(
                _("Sample photos: CC0 / public domain, see assets/samples/LICENSES.md."),
                className="muted",
            ),
        ],
        id=ids.PAGE,
        className="page",
        lang=current_language(),
    )
