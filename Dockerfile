# syntax=docker/dockerfile:1
# The app as a container: a release build without the demo provider, in a small runtime image that
# runs as a non-root user. Configure it with the same variables as .env (docker run --env-file .env).
#
#   docker build -t auth0-login .
#   docker run --rm -p 3000:3000 --env-file .env -e APP_BASE_URL=http://localhost:3000 auth0-login

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --no-default-features --bin auth0-login

# glibc and nothing else: the binary carries its templates, stylesheet and TLS roots.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/auth0-login /usr/local/bin/auth0-login
USER nonroot
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
# The binary asks its own /healthz: no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s CMD ["/usr/local/bin/auth0-login", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/auth0-login"]
