# Image for compose.yaml. durable_rules builds from source: gcc and the Python headers are needed.
FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc g++ make && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY auditcage auditcage
COPY api api
COPY notifications notifications
COPY rules rules
RUN pip install --no-cache-dir .
USER nobody
