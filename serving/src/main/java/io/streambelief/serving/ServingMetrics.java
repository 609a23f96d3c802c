package io.streambelief.serving;

import java.io.IOException;
import java.io.OutputStream;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * What {@code GET /metrics} reports, in Prometheus' text format: requests by endpoint and status
 * code, their latency, those refused over the maximum of concurrent requests, and per model its
 * version, age and how often it was swapped. The model
 * figures are read from the store at scrape time, so they cost nothing between scrapes.
 * Endpoints are a fixed set ({@link RequestLog#endpoint}), never raw paths or model names from
 * requests, so no client can grow the label set.
 */
final class ServingMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests;
    private final Counter refused;
    private final Histogram latency;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    ServingMetrics(ModelStore store) {
        requests = Counter.builder().name("streambelief_http_requests_total")
                .help("HTTP requests answered, by endpoint and status code")
                .labelNames("endpoint", "code").register(registry);
        refused = Counter.builder().name("streambelief_http_requests_refused_total")
                .help("Requests whose connection was closed unanswered: the maximum of concurrent requests was in progress")
                .register(registry);
        latency = Histogram.builder().name("streambelief_http_request_duration_seconds")
                .help("Time from request to the end of the answer, by endpoint")
                .labelNames("endpoint").classicOnly()
                .classicUpperBounds(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
                .register(registry);
        GaugeWithCallback.builder().name("streambelief_model_version")
                .help("The served model's version (sum of its shards' record timestamps; never goes back)")
                .labelNames("model")
                .callback(callback -> store.names().forEach(name -> store.get(name)
                        .ifPresent(model -> callback.call(model.modelVersion(), name))))
                .register(registry);
        GaugeWithCallback.builder().name("streambelief_model_age_seconds")
                .help("Time since the newest update in the served model")
                .labelNames("model")
                .callback(callback -> store.names().forEach(name -> store.get(name)
                        .filter(model -> model.updatedAtMillis() > 0)
                        .ifPresent(model -> callback.call(
                                Math.max(0, System.currentTimeMillis() - model.updatedAtMillis()) / 1000.0, name))))
                .register(registry);
        GaugeWithCallback.builder().name("streambelief_model_examples_trained")
                .help("Examples whose gradients are in every shard of the served model")
                .labelNames("model")
                .callback(callback -> store.names().forEach(name -> store.get(name)
                        .ifPresent(model -> callback.call(model.examplesTrained(), name))))
                .register(registry);
        CounterWithCallback.builder().name("streambelief_model_swaps_total")
                .help("New model versions swapped in, all models together")
                .callback(callback -> callback.call(store.swaps()))
                .register(registry);
        CounterWithCallback.builder().name("streambelief_records_stale_total")
                .help("Shard records and snapshots dropped because the served model already held newer values")
                .callback(callback -> callback.call(store.staleRecords()))
                .register(registry);
        GaugeWithCallback.builder().name("streambelief_publish_gate_open")
                .help("1 while new versions of the model are served; 0 while its publish gate holds the last good one "
                        + "back because training's progressive loss jumped")
                .labelNames("model")
                .callback(callback -> store.names().forEach(name -> callback.call(
                        store.gate().isOpen(name) ? 1 : 0, name)))
                .register(registry);
        CounterWithCallback.builder().name("streambelief_records_skipped_total")
                .help("model-params records that could not be used (corrupt, unknown model, wrong shape)")
                .callback(callback -> callback.call(store.skippedRecords()))
                .register(registry);
    }

    void record(String endpoint, int status, long nanos) {
        requests.labelValues(endpoint, Integer.toString(status)).inc();
        latency.labelValues(endpoint).observe(nanos / 1e9);
    }

    void refused() {
        refused.inc();
    }

    void write(OutputStream out) throws IOException {
        writer.write(out, registry.scrape());
    }

    String contentType() {
        return writer.getContentType();
    }
}
