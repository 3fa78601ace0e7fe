# syntax=docker/dockerfile:1
#
# A dataset release as an image: the dataset directory under /dataset, and
# busybox's cp, which the Deployment's init container uses to put it in the
# pod's volume before safethird starts (mounted read-only there). A new
# dataset is a new image tag, rolled out like a new binary. Build from the
# repository root:
#
#   docker build -f deploy/dataset.Dockerfile -t safethird-dataset:$(git describe --always) .
#
# The directory is data/ as `safethird dataset validate data` checks it,
# less the Go file that embeds it and its README.

FROM busybox:1.37-musl
COPY data/ /dataset/
RUN rm -f /dataset/embed.go /dataset/README.md
USER 65532:65532
