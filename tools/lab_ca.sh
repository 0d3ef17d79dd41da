#!/usr/bin/env bash
# A test certificate authority made with the openssl command: source it, then
#   ca_init DIR                       root (10 y) and intermediate (5 y) in DIR
#   ca_leaf DIR NAME SAN START END [ISSUER]   a server certificate NAME.crt/.key for DNS:SAN,
#                                     valid START..END (YYYYMMDDHHMMSSZ), signed by ISSUER
#                                     (default: int); NAME.issuer.pem = the certificate above it
#   ca_intermediate DIR NAME START END  another intermediate under the root
#   ca_self DIR NAME SAN              a self-signed server certificate
# Keys are P-256: quick to make.

ca_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca_conf() { # DIR
	cat > "$1/ca.cnf" <<'CNF'
[ ca ]
default_ca = lab
[ lab ]
database = $ENV::CA_DIR/index.txt
serial = $ENV::CA_DIR/serial
new_certs_dir = $ENV::CA_DIR/new
default_md = sha256
policy = any
unique_subject = no
email_in_dn = no
[ any ]
commonName = supplied
organizationName = optional
[ ca_ext ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ leaf_ext ]
basicConstraints = CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:$ENV::CA_SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
}

# ca_sign DIR ISSUER NAME CN START END EXT
ca_sign() {
	local d=$1 issuer=$2 name=$3 cn=$4 start=$5 end=$6 ext=$7
	ca_key "$d/$name.key"
	openssl req -new -key "$d/$name.key" -subj "/O=tcpvitals lab/CN=$cn" -out "$d/$name.csr" 2>/dev/null
	CA_DIR=$d CA_SAN=${CA_SAN:-unused.invalid} openssl ca -batch -notext -config "$d/ca.cnf" \
		-cert "$d/$issuer.crt" -keyfile "$d/$issuer.key" -in "$d/$name.csr" -out "$d/$name.crt" \
		-startdate "$start" -enddate "$end" -extensions "$ext" 2>"$d/$name.err" || { cat "$d/$name.err" >&2; return 1; }
}

ca_date() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

ca_init() {
	local d=$1
	mkdir -p "$d/new"
	: > "$d/index.txt"
	echo 1000 > "$d/serial"
	ca_conf "$d"
	ca_key "$d/root.key"
	openssl req -x509 -new -key "$d/root.key" -subj "/O=tcpvitals lab/CN=lab root" -days 3650 \
		-addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$d/root.crt" 2>/dev/null
	ca_sign "$d" root int "lab intermediate" "$(ca_date '-1 day')" "$(ca_date '+5 years')" ca_ext
}

ca_intermediate() {
	ca_sign "$1" root "$2" "lab intermediate $2" "$3" "$4" ca_ext
}

ca_leaf() {
	local d=$1 name=$2 san=$3 start=$4 end=$5 issuer=${6:-int}
	CA_SAN=$san ca_sign "$d" "$issuer" "$name" "$san" "$start" "$end" leaf_ext
	cp "$d/$issuer.crt" "$d/$name.issuer.pem"
}

ca_self() {
	local d=$1 name=$2 san=$3
	ca_key "$d/$name.key"
	openssl req -x509 -new -key "$d/$name.key" -subj "/CN=$san" -days 30 -addext "subjectAltName=DNS:$san" \
		-out "$d/$name.crt" 2>/dev/null
}
