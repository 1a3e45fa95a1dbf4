# Photo Tips images for compose.yaml. `web`: the server (no torch). `model`: the shared model server on a GPU.
FROM python:3.11-slim AS web
# OpenCV's runtime libraries.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libglib2.0-0 libgl1 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY server server
COPY client_demo client_demo
COPY content content
COPY models models
COPY prompts prompts
RUN pip install --no-cache-dir .
USER nobody
# The content files stay editable beside the code, as in the repository.
ENV PHOTOTIPS_HOST=0.0.0.0 PHOTOTIPS_HOME=/app
EXPOSE 8000
CMD ["phototips", "serve"]

FROM web AS model
USER root
# The CUDA build of torch (PyPI's default on x86_64), then transformers and the rest of the vlm extra.
RUN pip install --no-cache-dir ".[vlm]"
USER nobody
EXPOSE 8100
CMD ["phototips", "model-server"]
