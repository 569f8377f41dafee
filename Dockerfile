# braid's container image: the release binary on a small Debian base, run as a non-root user.
# The binary is built outside (the release workflow, or scripts/release-local.sh) and passed
# in the build context as dist/<docker architecture>/braid (amd64, arm64), so the image holds
# exactly the released, checksummed binary:
#
#   scripts/release-local.sh --out dist
#   docker build -t braid:dev .
#
# Debian bookworm-slim: glibc 2.36 and OpenSSL 3, which the glibc build links; git for git
# sources; ca-certificates for TLS; gnupg for SOPS files encrypted with PGP keys.
FROM debian:bookworm-slim

# Set by BuildKit to the platform being built (amd64, arm64).
ARG TARGETARCH

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git gnupg libssl3 tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 braid \
 && useradd --system --uid 10001 --gid braid --home-dir /home/braid --create-home braid

COPY dist/${TARGETARCH}/braid /usr/local/bin/braid

USER 10001:10001
WORKDIR /work
ENV HOME=/home/braid
# The agent serves its status page and webhooks here (braid agent --listen 0.0.0.0:8080).
EXPOSE 8080

ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/braid"]
CMD ["--help"]
