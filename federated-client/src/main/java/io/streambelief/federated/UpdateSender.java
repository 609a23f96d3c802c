package io.streambelief.federated;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import io.streambelief.model.record.ModelUpdate;
import io.streambelief.model.record.ModelUpdateCodec;

/** Sends model updates to {@code client-updates}, keyed by model and client; thread-safe, as Kafka's producer is. */
public final class UpdateSender implements AutoCloseable {
    private final String topic;
    private final KafkaProducer<byte[], byte[]> producer;

    public UpdateSender(String bootstrapServers, String topic) {
        this.topic = topic;
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        // An update is sent once even if the broker answers late: the aggregator would drop a
        // second copy anyway, but idempotence keeps the topic free of them.
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        // As large as the deployment's topics take (Topics.MAX_RECORD_BYTES): an update is the whole model's change.
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(16 << 20));
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Sends {@code update} and waits until the broker has it; returns the bytes sent. */
    public int send(ModelUpdate update) {
        byte[] key = (update.modelId() + "/" + update.clientId()).getBytes(StandardCharsets.UTF_8);
        byte[] value = ModelUpdateCodec.encode(update);
        try {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
            return key.length + value.length;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while sending " + update, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Could not send " + update + ": " + e.getCause().getMessage(), e.getCause());
        }
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
