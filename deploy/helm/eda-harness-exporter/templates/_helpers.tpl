{{/* Names, labels and the checks every render runs. */}}

{{- define "eda-harness-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the release name alone when it already contains the chart name. */}}
{{- define "eda-harness-exporter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "eda-harness-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "eda-harness-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eda-harness-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "eda-harness-exporter.labels" -}}
helm.sh/chart: {{ include "eda-harness-exporter.chart" . }}
{{ include "eda-harness-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: eda-harness
{{- end }}

{{- define "eda-harness-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "eda-harness-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "eda-harness-exporter.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Where Secret material is mounted in the container. */}}
{{- define "eda-harness-exporter.secretsDir" -}}/etc/eda-harness/secrets{{- end }}

{{/*
Refuses values that would deploy a broken or leaky exporter, each with what to do instead.
Included by the Deployment, so `helm template` and `helm install` fail before anything is applied.
*/}}
{{- define "eda-harness-exporter.validate" -}}
{{- $config := .Values.config | default dict }}
{{- if not (kindIs "map" $config) }}
{{- fail "config must be an object: the exporter's config file (see docs/exporter.md)" }}
{{- end }}
{{- $kafka := get $config "kafka" | default dict }}
{{- $rabbit := get $config "rabbitmq" | default dict }}
{{- $envNames := list }}
{{- range .Values.extraEnv }}{{ $envNames = append $envNames .name }}{{ end }}
{{- $targets := or (hasKey $config "kafka") (hasKey $config "rabbitmq") (hasKey $config "kafkaClusters") (hasKey $config "rabbitmqServers") .Values.rabbitmq.amqpUrlSecret (has "KAFKA_BROKERS" $envNames) (has "AMQP_URL" $envNames) (has "RABBITMQ_MANAGEMENT_URL" $envNames) }}
{{- if not $targets }}
{{- fail "no target: set config.kafka.brokers (and/or config.rabbitmq.managementUrl, config.kafkaClusters, config.rabbitmqServers), e.g. --set-json 'config={\"kafka\":{\"brokers\":[\"kafka-bootstrap:9092\"]}}'" }}
{{- end }}
{{- $sasl := get $kafka "sasl" | default dict }}
{{- if hasKey $sasl "password" }}
{{- fail "config.kafka.sasl.password would put the Kafka password in a ConfigMap: remove it, create a Secret and set kafka.sasl.enabled=true, kafka.sasl.existingSecret=<name>" }}
{{- end }}
{{- range $i, $c := (get $config "kafkaClusters" | default list) }}
{{- if and (kindIs "map" $c) (hasKey (get $c "sasl" | default dict) "password") }}
{{- fail (printf "config.kafkaClusters[%d].sasl.password would put a Kafka password in a ConfigMap: mount a Secret with extraVolumes/extraVolumeMounts and set sasl.passwordFile instead" $i) }}
{{- end }}
{{- end }}
{{- if hasKey $rabbit "managementPassword" }}
{{- fail "config.rabbitmq.managementPassword would put the RabbitMQ password in a ConfigMap: remove it and set rabbitmq.management.existingSecret=<name> (keys username, password)" }}
{{- end }}
{{- range $key := list "managementUrl" "amqpUrl" }}
{{- $url := get $rabbit $key | default "" }}
{{- if regexMatch "^[a-zA-Z][a-zA-Z0-9+.-]*://[^/@]*:[^/@]*@" $url }}
{{- fail (printf "config.rabbitmq.%s holds a password (user:password@): remove the credentials from the URL and use rabbitmq.management.existingSecret (management API) or rabbitmq.amqpUrlSecret (AMQP)" $key) }}
{{- end }}
{{- end }}
{{- if .Values.kafka.sasl.enabled }}
{{- if not .Values.kafka.sasl.existingSecret }}
{{- fail "kafka.sasl.enabled is true but kafka.sasl.existingSecret is empty: create a Secret holding the password (kubectl create secret generic <name> --from-literal=password=...) and set kafka.sasl.existingSecret=<name>" }}
{{- end }}
{{- if not (has (lower .Values.kafka.sasl.mechanism) (list "plain" "scram-sha-256" "scram-sha-512")) }}
{{- fail (printf "kafka.sasl.mechanism %q is not one of plain, scram-sha-256, scram-sha-512 (OAUTHBEARER: see extraEnv in values.yaml)" .Values.kafka.sasl.mechanism) }}
{{- end }}
{{- end }}
{{- if and .Values.kafka.tls.clientSecret (not .Values.kafka.tls.enabled) }}
{{- fail "kafka.tls.clientSecret is set but kafka.tls.enabled is false: set kafka.tls.enabled=true (a client certificate is only sent over TLS)" }}
{{- end }}
{{- if and .Values.kafka.tls.caSecret (not .Values.kafka.tls.enabled) }}
{{- fail "kafka.tls.caSecret is set but kafka.tls.enabled is false: set kafka.tls.enabled=true" }}
{{- end }}
{{- if gt (int .Values.replicaCount) 1 }}
{{- fail (printf "replicaCount is %v: two exporters reading the same brokers expose every series twice and the alerts count them twice; run one release per cluster instead" .Values.replicaCount) }}
{{- end }}
{{- end }}
