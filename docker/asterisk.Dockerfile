# Asterisk 22 from Debian sid with the project's configuration: the same packages as the
# sandbox chroot (hotline/sandbox_chroot.py PACKAGES) and the same renderer
# (hotline/asterisk_config.py) run by the entrypoint over config/asterisk.
#   docker build -f docker/asterisk.Dockerfile -t hotline12345-asterisk .
FROM debian:sid

ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends asterisk asterisk-moh-opsound-gsm python3 \
 && apt-get clean && rm -rf /var/lib/apt/lists/*

COPY hotline/asterisk_config.py /usr/local/lib/hotline/asterisk_config.py
COPY docker/asterisk-entrypoint.sh /usr/local/bin/asterisk-entrypoint
# Built into the image; compose also mounts the project's folder over it, read-only.
COPY config/asterisk /opt/hotline/config/asterisk

# SIP 5060/udp, AMI 5038/tcp, RTP 10000-10999/udp (config/asterisk/rtp.conf).
EXPOSE 5060/udp 5038/tcp 10000-10999/udp
ENTRYPOINT ["/usr/local/bin/asterisk-entrypoint"]
