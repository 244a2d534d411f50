# Lanebridge's image: one image, one process per container (web, worker, beat, the local ERP), as compose.yaml runs it.
# Alone, it runs the embedded setup (SQLite in the /var/lib/lanebridge volume, `manage.py serve`).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LANEBRIDGE_VAR=/var/lib/lanebridge \
    LANEBRIDGE_STATIC_ROOT=/app/staticfiles \
    LANEBRIDGE_STATIC_MANIFEST=1 \
    LANEBRIDGE_WEB_BIND=0.0.0.0:8000 \
    TRYTON_TEMPLATE_DIR=/var/lib/lanebridge/tryton-template

# gettext compiles the translations; npm fetches the page assets (bpmn-js, htmx) at build time only;
# python-ldap (LDAP sign-on) is built against OpenLDAP's and SASL's headers.
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
       gettext npm gcc libc6-dev libldap2-dev libsasl2-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --silent
COPY . .
# Assets, translations, then hashed and compressed static files (served by WhiteNoise from the image).
# The build's own var folder (and the key made in it) is thrown away: no secret stays in the image.
RUN export LANEBRIDGE_VAR=/tmp/build-var \
    && npm run build --silent && python manage.py install_assets \
    && python manage.py compilemessages -v0 --ignore=node_modules \
    && python manage.py collectstatic --noinput -v0 \
    && rm -rf node_modules /tmp/build-var

RUN useradd --system --home-dir /var/lib/lanebridge lanebridge \
    && mkdir -p /var/lib/lanebridge && chown lanebridge /var/lib/lanebridge
USER lanebridge
VOLUME /var/lib/lanebridge
EXPOSE 8000

CMD ["sh", "-c", "python manage.py migrate --noinput && exec python manage.py serve --addr 0.0.0.0:8000"]
