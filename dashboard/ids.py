"""Every component id of the page, once. Outside tools rely on the first group: keep them."""

MODEL_SELECT = "model-select"
LAYER_SELECT = "layer-select"
IMAGE_UPLOAD = "image-upload"
SAMPLE_SELECT = "sample-select"
KERNEL_GRID = "kernel-grid"
FEATURE_GRID = "feature-grid"
FEATURE_DETAIL = "feature-detail"

WEIGHTS_UPLOAD = "weights-upload"
SCALE_SELECT = "scale-select"
KERNEL_VIEW = "kernel-view"
PAGE_PREV = "kernel-page-prev"
PAGE_NEXT = "kernel-page-next"
CHANNEL_STORE = "channel-store"
# The channel a click picked, written only by a click: what the panels below the grids
# follow, so that a layer switch never makes them wait for the grid's answer.
CHANNEL_PICKED = "channel-picked"
IMAGE_STORE = "image-store"
WEIGHTS_STORE = "weights-store"
MODEL_NOTICE = "model-notice"
STATUS = "status"
UPLOAD_STATUS = "upload-status"
INPUT_PREVIEW = "input-preview"
LAYER_INFO = "layer-info"
WEIGHTS_STATUS = "weights-status"
DOWNLOAD_POLL = "download-poll"
DOWNLOAD_STATUS = "download-status"
# a big model's first pass on a worker (callbacks/prepare.py), with Redis only
PREPARE_BOX = "prepare-box"
PREPARE_REQUEST = "prepare-request"
PREPARED = "prepared"
PREPARE_START = "prepare-start"
PREPARE_CANCEL = "prepare-cancel"
PREPARE_PROGRESS = "prepare-progress"
PREPARE_STAGE = "prepare-stage"
PREPARE_WAIT = "prepare-wait"
PREPARE_STATUS = "prepare-status"
KERNEL_PAGER = "kernel-pager"
UPLOAD_LIMITS = "upload-limits"
SESSION_STORE = "session-store"
KERNEL_PAGE = "kernel-page"
SCROLL_SINK = "scroll-sink"
DETAIL_PANEL = "detail-panel"
GRID_SIZE = "grid-size"
FEATURE_ZOOM = "feature-zoom"
KERNEL_SCALE = "kernel-scale"
LOOK = "look"
CHANNEL_KERNELS = "channel-kernels"
DETAIL_INPUT = "detail-input"
PREDICTIONS = "predictions"
PREPROCESSING = "preprocessing"
LANG_SELECT = "lang-select"  # English / 中文: reloads the page in that language
LANG_RELOAD = "lang-reload"

# Explaining what is shown (issue 12)
SORT_SELECT = "sort-select"
EXPLAIN_PANEL = "explain-panel"
EXPLAIN_FIGURE = "explain-figure"
EXPLAIN_TEXT = "explain-text"
EXPLAIN_TOTAL = "explain-total"
OVERLAY = "overlay"
OVERLAY_OPACITY = "overlay-opacity"
STATS_BARS = "stats-bars"
STATS_HISTOGRAM = "stats-histogram"
STATS_TEXT = "stats-text"
RANGE_STORE = "range-store"
FEATUREVIS_START = "featurevis-start"
FEATUREVIS_CANCEL = "featurevis-cancel"
FEATUREVIS_PROGRESS = "featurevis-progress"
FEATUREVIS_FIGURE = "featurevis-figure"
FEATUREVIS_STATUS = "featurevis-status"

# Export (issue 13): buttons and the dcc.Download each one fills
EXPORT_ACTIVATIONS = "export-activations"
EXPORT_ACTIVATIONS_FILE = "export-activations-file"
EXPORT_KERNELS = "export-kernels"
EXPORT_KERNELS_FILE = "export-kernels-file"
EXPORT_MAP = "export-map"
EXPORT_MAP_FILE = "export-map-file"
EXPORT_EXPLANATION = "export-explanation"
EXPORT_EXPLANATION_FILE = "export-explanation-file"
IMAGE_FORMAT = "image-format"  # the modebar camera's format: PNG or SVG
IMAGE_NAMES_SINK = "image-names-sink"  # output of the clientside callback that applies them
EXPORT_EXPLANATION_ROW = "export-explanation-row"  # hidden until a pixel is explained

# Comparing two images on one layer and channel (issue 13)
COMPARE_SELECT = "compare-select"
COMPARE_SCALE = "compare-scale"
COMPARE_DETAIL = "compare-detail"
COMPARE_ROW = "compare-row"

# Shareable URL (issue 13)
URL = "url"  # dcc.Location: its search holds the view
URL_VIEW = "url-view"  # the view the URL asked for, as the page applied it
URL_WRITE = "url-write"  # the query string the page wants, before it is pushed or replaced
URL_CHANNEL = "url-channel"  # a channel the URL selects on the layer already shown
URL_STATUS = "url-status"  # what the link asked for that the page cannot show
PAGE = "page"  # the page's root: its lang attribute follows LANG_STORE
LANG_STORE = "lang-store"  # the page's language ("en", "zh"), carried by the URL
URL_ZOOM = "url-zoom"  # a feature-grid zoom window the URL applies to the grid already shown
