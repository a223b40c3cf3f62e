# ConvScope, CPU-only: torch/torchvision "+cpu" from requirements-deploy.txt, no CUDA.
#   docker build -t convscope .
#   docker run --rm -p 8050:8050 convscope            # then open http://127.0.0.1:8050
#   docker run --rm -e PORT=9000 -p 9000:9000 convscope
# A PaaS that sets $PORT (Heroku, Render, Fly, Railway, Cloud Run) needs nothing more.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    MALLOC_ARENA_MAX=2 \
    PORT=8050

WORKDIR /app

# Dependencies first: this layer is rebuilt only when the pins change.
COPY requirements-deploy.txt ./
RUN pip install --no-cache-dir -r requirements-deploy.txt

COPY dashboard/ ./dashboard/
COPY assets/ ./assets/
COPY Procfile ./

# The code stays root-owned and read-only; the app user only needs a home for
# TORCH_HOME (~/.cache/torch), where hub weights go when downloads are allowed.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin convscope
USER convscope

EXPOSE 8050

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8050'), timeout=4)"

# The Procfile's web line; "exec" makes python PID 1 so it receives the platform's SIGTERM.
CMD ["sh", "-c", "exec python -m dashboard --host 0.0.0.0 --port \"$PORT\""]
