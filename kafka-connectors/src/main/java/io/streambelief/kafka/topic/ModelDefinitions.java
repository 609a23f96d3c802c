package io.streambelief.kafka.topic;

import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import io.streambelief.model.record.ModelDefinition;
import io.streambelief.model.record.ModelDefinitionCodec;
import io.streambelief.model.record.ModelIds;

/** Publishes a model's definition to model-params, where readers find it before its shards. */
public final class ModelDefinitions {
    private ModelDefinitions() {}

    public static void publish(String bootstrapServers, String modelParamsTopic, ModelDefinition definition)
            throws ExecutionException, InterruptedException, TimeoutException {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Topics.MAX_RECORD_BYTES));
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            byte[] key = ModelIds.definitionKey(definition.modelId()).getBytes(StandardCharsets.UTF_8);
            producer.send(new ProducerRecord<>(modelParamsTopic, key, ModelDefinitionCodec.encode(definition)))
                    .get(60, TimeUnit.SECONDS);
        }
    }
}
