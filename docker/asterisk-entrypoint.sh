#!/bin/sh
# Render config/asterisk into /etc/asterisk (the package's own files are replaced), then
# run Asterisk in the foreground as the asterisk user. Values come from the environment:
# HOTLINE_AMI_SECRET (required) and HOTLINE_AST_<FIELD> overrides (see
# hotline/asterisk_config.py AsteriskValues).
set -eu
python3 /usr/local/lib/hotline/asterisk_config.py /opt/hotline/config/asterisk /etc/asterisk
chown -R asterisk:asterisk /etc/asterisk /var/lib/asterisk /var/log/asterisk \
    /var/spool/asterisk
mkdir -p /run/asterisk && chown asterisk:asterisk /run/asterisk
exec /usr/sbin/asterisk -f -n -U asterisk -G asterisk "$@"
