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
RUN pip install .
COPY . .
# collectstatic needs settings that import cleanly without the production secrets.
RUN DEBUG=0 SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media && chown -R app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py", "badgeplatform.wsgi:application"]
