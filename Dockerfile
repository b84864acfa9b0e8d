FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN useradd --create-home --uid 1000 app
COPY pyproject.toml README.md ./
COPY badgeplatform ./badgeplatform
COPY orgs ./orgs
COPY users ./users
COPY issuers ./issuers
COPY badges ./badges
COPY reporting ./reporting
COPY branding ./branding
COPY sso ./sso
RUN pip install .
COPY . .
# collectstatic needs settings that import cleanly without the production secrets.
# The web process refuses to start without the manifest this writes (badgeplatform/startup.py);
# the entrypoint collects again if STATIC_ROOT is pointed somewhere still empty.
RUN DEBUG=0 SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && chmod 0755 docker/entrypoint.sh \
    && mkdir -p /app/var/media && chown -R app /app/var /app/staticfiles
# The public verifier (/verify/) checks OB 3.0 credentials against 1EdTech's official JSON
# Schema. Its licence keeps it out of the repository, so the image fetches it from its
# canonical address at build time (docs/openbadges.md, "Verifying anyone's badge").
ADD --chmod=644 https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json \
    /app/var/ob3/ob_v3p0_achievementcredential_schema.json
ENV OB3_SCHEMA_FILE=/app/var/ob3/ob_v3p0_achievementcredential_schema.json
USER app
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "badgeplatform.wsgi:application"]
