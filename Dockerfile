# ExoHunter: one cgo binary (DuckDB linked in) on Debian bookworm.
# Build: docker build -t exohunter .   Run: docker run -p 8080:8080 -e EXOHUNTER_TOKEN=secret -v exo:/data exohunter

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# cgo is required: DuckDB is a C++ library linked into the binary.
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/exohunter .

FROM debian:bookworm-slim
# libxgboost0 + libgomp1: loaded at run time by `train` and `score` only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libxgboost0 libgomp1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/exohunter /usr/local/bin/exohunter
ENV EXOHUNTER_DATA=/data EXOHUNTER_FEATURE_STORE=/data/feature_store EXOHUNTER_ADDR=0.0.0.0:8080
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["exohunter"]
CMD ["serve"]
