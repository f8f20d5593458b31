{{/* Names, labels and small computed values shared by every template. */}}

{{/* The CSI driver name: fixed, the binary reports it in GetPluginInfo. */}}
{{- define "csi-cert-driver.driverName" -}}
csi.k8s.cert-driver
{{- end -}}

{{- define "csi-cert-driver.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* `<release>-<chart>`, or the release name when it already contains the chart name. */}}
{{- define "csi-cert-driver.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* `<fullname>-<suffix>`, kept within 63 characters. Call with (list $ "suffix"). */}}
{{- define "csi-cert-driver.componentName" -}}
{{- $root := index . 0 -}}
{{- $suffix := index . 1 -}}
{{- printf "%s-%s" (include "csi-cert-driver.fullname" $root | trunc (int (sub 62 (len $suffix))) | trimSuffix "-") $suffix -}}
{{- end -}}

{{- define "csi-cert-driver.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "csi-cert-driver.labels" -}}
helm.sh/chart: {{ include "csi-cert-driver.chart" . }}
app.kubernetes.io/name: {{ include "csi-cert-driver.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: csi-cert-driver
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component. Call with (list $ "component"). */}}
{{- define "csi-cert-driver.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "csi-cert-driver.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* All labels of one component's objects. Call with (list $ "component"). */}}
{{- define "csi-cert-driver.componentLabels" -}}
{{ include "csi-cert-driver.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* The product image reference: repository@digest or repository:tag (tag defaults to appVersion). */}}
{{- define "csi-cert-driver.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Windows image: windows.image, else the product repository with a `-windows` tag. */}}
{{- define "csi-cert-driver.windowsImage" -}}
{{- $repo := default .Values.image.repository .Values.windows.image.repository -}}
{{- $tag := default (printf "%s-windows" (default .Chart.AppVersion .Values.image.tag)) .Values.windows.image.tag -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}

{{/* A sidecar image from {repository, tag}. */}}
{{- define "csi-cert-driver.sidecarImage" -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}

{{- define "csi-cert-driver.nodeServiceAccount" -}}
{{- include "csi-cert-driver.componentName" (list . "node") -}}
{{- end -}}
{{- define "csi-cert-driver.issuerServiceAccount" -}}
{{- include "csi-cert-driver.componentName" (list . "issuer") -}}
{{- end -}}
{{- define "csi-cert-driver.approverServiceAccount" -}}
{{- include "csi-cert-driver.componentName" (list . "approver") -}}
{{- end -}}

{{/* The CA Secret: an existing one, or the one the chart generates. */}}
{{- define "csi-cert-driver.caSecretName" -}}
{{- default (include "csi-cert-driver.componentName" (list . "ca")) .Values.ca.existingSecret -}}
{{- end -}}

{{/* Where node drivers reach the issuer. */}}
{{- define "csi-cert-driver.issuerAddress" -}}
{{- if .Values.node.issuerAddress -}}
{{- .Values.node.issuerAddress -}}
{{- else -}}
{{- printf "%s.%s.svc:%d" (include "csi-cert-driver.componentName" (list . "issuer")) .Release.Namespace (int .Values.issuer.port) -}}
{{- end -}}
{{- end -}}

{{/* host:port for API_LISTEN_ADDR; IPv6 hosts get brackets. Call with the api values. */}}
{{- define "csi-cert-driver.apiListenAddr" -}}
{{- if contains ":" .host -}}
{{- printf "[%s]:%d" .host (int .port) -}}
{{- else -}}
{{- printf "%s:%d" .host (int .port) -}}
{{- end -}}
{{- end -}}

{{/* "true" when a node DaemonSet (Linux or Windows) is enabled, else "". */}}
{{- define "csi-cert-driver.nodeDrivers" -}}
{{- if or .Values.node.enabled .Values.windows.enabled -}}
true
{{- end -}}
{{- end -}}

{{/*
"true" when the node drivers, Linux and Windows alike, use the Kubernetes API (cert-manager mode,
status objects, pod Events), else "". Only then do they get their service-account token and RBAC.
*/}}
{{- define "csi-cert-driver.nodeUsesKube" -}}
{{- if and (include "csi-cert-driver.nodeDrivers" .) (or .Values.certManager.enabled .Values.status.objects .Values.status.podEvents) -}}
true
{{- end -}}
{{- end -}}

{{/*
The pod spec's service account of both node DaemonSets: its token is mounted only when a Kubernetes
feature uses it (the in-cluster config); otherwise the node holds no API credential at all.
*/}}
{{- define "csi-cert-driver.nodeServiceAccountSpec" -}}
serviceAccountName: {{ include "csi-cert-driver.nodeServiceAccount" . }}
automountServiceAccountToken: {{ include "csi-cert-driver.nodeUsesKube" . | eq "true" }}
{{- end -}}

{{/* ALLOWED_KEYS of the approver: approver.allowedKeys, else the SVID key ECDSA-<spiffe.keySize>. */}}
{{- define "csi-cert-driver.approverAllowedKeys" -}}
{{- default (printf "ECDSA-%d" (int .Values.spiffe.keySize)) .Values.approver.allowedKeys -}}
{{- end -}}

{{/*
The node's env of SPIFFE mode, shared by the Linux and Windows drivers (no API access needed).
*/}}
{{- define "csi-cert-driver.nodeSpiffeEnv" -}}
{{- if .Values.spiffe.enabled }}
- name: SPIFFE_TRUST_DOMAIN
  value: {{ .Values.spiffe.trustDomain | quote }}
- name: SPIFFE_CERTIFICATE_DURATION
  value: {{ .Values.spiffe.certificateDuration | quote }}
- name: SPIFFE_KEY_SIZE
  value: {{ .Values.spiffe.keySize | toString | quote }}
{{- end }}
{{- end -}}

{{/*
The node drivers' env of their Kubernetes features (Linux and Windows DaemonSets). STATUS_OBJECTS
and POD_EVENTS are always set: the driver's default `auto` would turn them on in any pod, with or
without a token.
*/}}
{{- define "csi-cert-driver.nodeKubeEnv" -}}
- name: STATUS_OBJECTS
  value: {{ .Values.status.objects | toString | quote }}
- name: POD_EVENTS
  value: {{ .Values.status.podEvents | toString | quote }}
{{- if or .Values.status.objects .Values.status.podEvents }}
- name: STATUS_QPS
  value: {{ .Values.status.qps | toString | quote }}
- name: STATUS_BURST
  value: {{ .Values.status.burst | toString | quote }}
{{- end }}
{{- if .Values.certManager.enabled }}
- name: CERT_MANAGER_ENABLED
  value: "true"
- name: CERT_MANAGER_IDENTITY
  value: {{ .Values.certManager.requestIdentity | quote }}
{{- with .Values.certManager.tokenAudience }}
- name: CERT_MANAGER_TOKEN_AUDIENCE
  value: {{ . | quote }}
{{- end }}
- name: CERT_MANAGER_TIMEOUT
  value: {{ .Values.certManager.timeout | quote }}
- name: CERT_MANAGER_CLEANUP_INTERVAL
  value: {{ .Values.certManager.cleanupInterval | quote }}
{{- end }}
{{- end -}}

{{/* Fails rendering on combinations the schema cannot express. */}}
{{- define "csi-cert-driver.validate" -}}
{{- if and .Values.approver.enabled (not .Values.certManager.enabled) -}}
{{- fail "approver.enabled needs certManager.enabled: the approver decides on cert-manager CertificateRequests" -}}
{{- end -}}
{{- if and .Values.approver.enabled (not .Values.spiffe.enabled) -}}
{{- fail "approver.enabled needs spiffe.enabled: the approver approves SPIFFE SVID requests only (it would deny every other request)" -}}
{{- end -}}
{{- if and .Values.approver.enabled (eq .Values.certManager.requestIdentity "driver") -}}
{{- fail "approver.enabled needs certManager.requestIdentity=pod: the approver checks that the requester is the pod's own service account, so requests made as the node driver would all be denied" -}}
{{- end -}}
{{- if and .Values.approver.enabled (not .Values.approver.issuerRef.name) -}}
{{- fail "approver.issuerRef.name is required when approver.enabled: the approver only decides for one issuer" -}}
{{- end -}}
{{- if and .Values.approver.issuerRef.namespaces (ne .Values.approver.issuerRef.kind "Issuer") -}}
{{- fail "approver.issuerRef.namespaces applies to kind Issuer only (a ClusterIssuer has no namespace)" -}}
{{- end -}}
{{- if and (not .Values.issuer.enabled) (not .Values.node.issuerAddress) (or .Values.node.enabled .Values.windows.enabled) -}}
{{- fail "issuer.enabled=false needs node.issuerAddress: the node drivers must reach an issuer" -}}
{{- end -}}
{{- if and .Values.issuer.tls.enabled (or .Values.issuer.tls.existingSecret (not .Values.issuer.enabled)) (not .Values.issuer.tls.caConfigMap) (or .Values.node.enabled .Values.windows.enabled) -}}
{{- fail "issuer.tls.caConfigMap is required with issuer.tls.existingSecret or issuer.enabled=false: the node drivers need the CA that signed the issuer's serving certificate" -}}
{{- end -}}
{{- if and .Values.issuer.tls.enabled .Values.issuer.tls.clientAuth (or .Values.issuer.tls.existingSecret (not .Values.issuer.enabled)) (not .Values.issuer.tls.clientSecret) (or .Values.node.enabled .Values.windows.enabled) -}}
{{- fail "issuer.tls.clientSecret is required with issuer.tls.clientAuth and issuer.tls.existingSecret (or issuer.enabled=false): the node drivers' client certificate" -}}
{{- end -}}
{{- if and .Values.certManager.enabled (eq .Values.certManager.requestIdentity "pod") (eq .Values.certManager.tokenAudience .Values.csiDriver.tokenAudience) -}}
{{- fail "certManager.tokenAudience must differ from csiDriver.tokenAudience: kubelet keys the tokens by audience" -}}
{{- end -}}
{{- end -}}

{{/* The issuer's serving certificate Secret (tls.crt, tls.key, ca.crt). */}}
{{- define "csi-cert-driver.issuerTlsSecretName" -}}
{{- default (include "csi-cert-driver.componentName" (list . "issuer-tls")) .Values.issuer.tls.existingSecret -}}
{{- end -}}

{{/* The ConfigMap with the CA the node drivers verify the issuer's serving certificate against. */}}
{{- define "csi-cert-driver.issuerTlsCaConfigMapName" -}}
{{- default (include "csi-cert-driver.componentName" (list . "issuer-tls-ca")) .Values.issuer.tls.caConfigMap -}}
{{- end -}}

{{/* The name the issuer's serving certificate must carry. */}}
{{- define "csi-cert-driver.issuerServerName" -}}
{{- default (printf "%s.%s.svc" (include "csi-cert-driver.componentName" (list . "issuer")) .Release.Namespace) .Values.issuer.tls.serverName -}}
{{- end -}}

{{/* The node drivers' env for TLS to the issuer (Linux and Windows). */}}
{{- define "csi-cert-driver.nodeIssuerTlsEnv" -}}
{{- if .Values.issuer.tls.enabled }}
- name: ISSUER_TLS_CA_FILE
  value: /etc/csi-cert-driver/issuer-tls/ca.crt
- name: ISSUER_TLS_SERVER_NAME
  value: {{ include "csi-cert-driver.issuerServerName" . | quote }}
{{- if .Values.issuer.tls.clientAuth }}
- name: ISSUER_TLS_CLIENT_CERT_FILE
  value: /etc/csi-cert-driver/node-tls/tls.crt
- name: ISSUER_TLS_CLIENT_KEY_FILE
  value: /etc/csi-cert-driver/node-tls/tls.key
{{- end }}
{{- else }}
- name: ISSUER_PLAINTEXT
  value: "true"
{{- end }}
{{- end -}}

{{/* The node drivers' volumeMounts for TLS to the issuer. */}}
{{- define "csi-cert-driver.nodeIssuerTlsMounts" -}}
{{- if .Values.issuer.tls.enabled }}
- name: issuer-tls-ca
  mountPath: /etc/csi-cert-driver/issuer-tls
  readOnly: true
{{- if .Values.issuer.tls.clientAuth }}
- name: node-tls
  mountPath: /etc/csi-cert-driver/node-tls
  readOnly: true
{{- end }}
{{- end }}
{{- end -}}

{{/* The node drivers' volumes for TLS to the issuer. */}}
{{- define "csi-cert-driver.nodeIssuerTlsVolumes" -}}
{{- if .Values.issuer.tls.enabled }}
- name: issuer-tls-ca
  configMap:
    name: {{ include "csi-cert-driver.issuerTlsCaConfigMapName" . }}
    items:
      - key: ca.crt
        path: ca.crt
{{- if .Values.issuer.tls.clientAuth }}
- name: node-tls
  secret:
    secretName: {{ default (include "csi-cert-driver.componentName" (list . "node-tls")) .Values.issuer.tls.clientSecret }}
    defaultMode: 256 # 0400
{{- end }}
{{- end }}
{{- end -}}

{{/*
The node drivers' trust bundle from a ConfigMap (node.trustBundle): TRUST_BUNDLE_FILE, its
read-only mount and its volume, the same in the Linux and Windows DaemonSets. Nothing when unset.
*/}}
{{- define "csi-cert-driver.nodeTrustBundleEnv" -}}
{{- if .Values.node.trustBundle.configMapName }}
- name: TRUST_BUNDLE_FILE
  value: /etc/csi-cert-driver/trust-bundle/{{ .Values.node.trustBundle.key }}
{{- end }}
{{- end -}}

{{- define "csi-cert-driver.nodeTrustBundleMounts" -}}
{{- if .Values.node.trustBundle.configMapName }}
- name: trust-bundle
  mountPath: /etc/csi-cert-driver/trust-bundle
  readOnly: true
{{- end }}
{{- end -}}

{{- define "csi-cert-driver.nodeTrustBundleVolumes" -}}
{{- with .Values.node.trustBundle.configMapName }}
- name: trust-bundle
  configMap:
    name: {{ . }}
    items:
      - key: {{ $.Values.node.trustBundle.key }}
        path: {{ $.Values.node.trustBundle.key }}
{{- end }}
{{- end -}}
