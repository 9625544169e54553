# Image for compose.yaml. durable_rules builds from source: gcc and the Python headers are needed.
FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc g++ make && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY auditcage auditcage
COPY api api
COPY notifications notifications
COPY rules rules
# EXTRAS=spark: the Spark extra and Java 17 for the compose profile "spark".
ARG EXTRAS=""
RUN if [ "$EXTRAS" = "spark" ]; then \
      apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
      && rm -rf /var/lib/apt/lists/* && pip install --no-cache-dir '.[spark]'; \
    else pip install --no-cache-dir .; fi
USER nobody
