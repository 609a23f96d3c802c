package io.streambelief.kafka.feed;

import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.topic.Topics;
import io.streambelief.model.Example;

/**
 * Streams examples into the examples topic, spreading them over its partitions in turn (example
 * i to partition i mod P), so each partition — and each worker reading it — gets an even share of
 * the data in the data set's order.
 */
public final class ExampleFeeder implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final ExampleFormat format;
    private final int partitions;
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private long next;

    public ExampleFeeder(String bootstrapServers, String topic, ExampleFormat format) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024));
        // Pixels and sparse features are mostly zeros: lz4 shrinks them for little CPU.
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        // Size limits are the examples topic's business (its parser dead-letters oversized records), not ours.
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Topics.MAX_RECORD_BYTES));
        // One request in flight: right after a topic is created, retried batches can otherwise
        // reach a new partition out of order, which the idempotent producer then retries until
        // its delivery timeout (OutOfOrderSequenceException, seen with Kafka 4.2 in KRaft mode).
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        this.topic = topic;
        this.format = format;
        this.partitions = producer.partitionsFor(topic).size();
    }

    /**
     * Sends every example {@code passes} times and waits until the broker has acknowledged them all.
     *
     * @param progress told the running count every 10,000 examples
     * @return examples sent
     * @throws ExecutionException if the broker refused any record
     */
    public long feed(List<Example> examples, int passes, LongConsumer progress)
            throws InterruptedException, ExecutionException, TimeoutException {
        long sent = 0;
        Future<RecordMetadata> last = null;
        for (int pass = 0; pass < passes; pass++) {
            for (Example example : examples) {
                if (Thread.interrupted()) {
                    throw new InterruptedException("Feeding interrupted after " + sent + " examples");
                }
                last = send(format.encode(example));
                if (++sent % 10_000 == 0) {
                    progress.accept(sent);
                }
            }
        }
        flush();
        if (last != null) {
            last.get(60, TimeUnit.SECONDS);
        }
        return sent;
    }

    /**
     * Sends raw records — CSV lines or JSON objects, as a sparse model's schema reads them — and
     * waits until the broker has acknowledged them all.
     *
     * @param progress told the running count every 10,000 records
     */
    public long feedLines(List<String> lines, LongConsumer progress) throws InterruptedException, ExecutionException {
        long sent = 0;
        for (String line : lines) {
            if (Thread.interrupted()) {
                throw new InterruptedException("Feeding interrupted after " + sent + " records");
            }
            send(line.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            if (++sent % 10_000 == 0) {
                progress.accept(sent);
            }
        }
        flush();
        return sent;
    }

    /** Sends one record value as it is (well-formed or not) to the next partition in turn. */
    public Future<RecordMetadata> send(byte[] value) {
        int partition = (int) (next++ % partitions);
        return producer.send(new ProducerRecord<>(topic, partition, null, value), (metadata, e) -> {
            if (e != null) {
                failure.compareAndSet(null, e);
            }
        });
    }

    /** Waits until everything sent is acknowledged; fails if the broker refused any record. */
    public void flush() throws ExecutionException {
        producer.flush();
        Exception e = failure.get();
        if (e != null) {
            throw new ExecutionException("Kafka refused a record for " + topic + ": " + e.getMessage(), e);
        }
    }

    public int partitions() {
        return partitions;
    }

    @Override
    public void close() {
        producer.close();
    }
}
