package io.streambelief.flink.parse;

import java.io.IOException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.ThreadSafeSimpleCounter;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.kafka.deadletter.DeadLetter;

/**
 * Writes dead letters to their topic at least once, as a {@code KafkaSink} with that guarantee
 * does: every letter sent before a checkpoint barrier is acknowledged before the checkpoint
 * completes ({@link SinkWriter#flush} waits for the producer), and a failure of the broker or the
 * network fails the task, so the restore writes the letters again.
 *
 * <p>It is not a {@code KafkaSink} for one reason: a letter the broker refuses for what it is
 * (too large, not a valid record) must not fail the task. The KafkaSink fails the task on any
 * failed send; the restored job reads the same record, makes the same letter, is refused again,
 * and trains nothing more (issue 16). Letters are cut to fit the record limit as they are written
 * ({@link DeadLetter#toProducerRecord}), so a refusal means a topic configured apart from the
 * job; such a letter is logged with where its record is (it stays in the source topic) and
 * counted in the {@code deadLettersFailed} metric, and the job goes on.
 */
public final class DeadLetterSink implements Sink<DeadLetter> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterSink.class);

    private final String topic;
    private final Properties producerConfig;
    private final int maxRecordBytes;

    /**
     * @param producerConfig the producer's configuration, bootstrap servers and
     *        {@code max.request.size} included
     * @param topicMaxMessageBytes the dead-letter topic's {@code max.message.bytes}: letters are
     *        cut to the smaller of the two limits
     */
    public DeadLetterSink(String topic, Properties producerConfig, int topicMaxMessageBytes) {
        this.topic = topic;
        this.producerConfig = (Properties) producerConfig.clone();
        this.maxRecordBytes = Math.min(topicMaxMessageBytes,
                Integer.parseInt(producerConfig.getProperty(ProducerConfig.MAX_REQUEST_SIZE_CONFIG)));
        if (maxRecordBytes < DeadLetter.MIN_RECORD_BYTES) {
            throw new IllegalArgumentException("Dead letters need records of at least " + DeadLetter.MIN_RECORD_BYTES
                    + " bytes; the topic and producer limits allow " + maxRecordBytes);
        }
    }

    @Override
    public SinkWriter<DeadLetter> createWriter(WriterInitContext context) {
        return new Writer(new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer()),
                topic, maxRecordBytes,
                // Counted from the producer's I/O thread.
                context.metricGroup().counter("deadLettersFailed", new ThreadSafeSimpleCounter()));
    }

    static final class Writer implements SinkWriter<DeadLetter> {
        private final Producer<byte[], byte[]> producer;
        private final String topic;
        private final int maxRecordBytes;
        private final Counter failed;
        private final AtomicReference<Exception> brokerFailure = new AtomicReference<>();

        Writer(Producer<byte[], byte[]> producer, String topic, int maxRecordBytes, Counter failed) {
            this.producer = producer;
            this.topic = topic;
            this.maxRecordBytes = maxRecordBytes;
            this.failed = failed;
        }

        @Override
        public void write(DeadLetter letter, Context context) throws IOException {
            throwBrokerFailure();
            producer.send(letter.toProducerRecord(topic, maxRecordBytes), (metadata, e) -> {
                if (e == null) {
                    return;
                }
                if (refusesTheRecord(e)) {
                    failed.inc();
                    LOG.error("Dead letter of {} (value {}) refused by {}, not written: {}; the record is still at "
                            + "that offset of its topic", letter, letter.originalValue(), topic, e.toString());
                } else {
                    brokerFailure.compareAndSet(null, e);
                }
            });
        }

        @Override
        public void flush(boolean endOfInput) throws IOException {
            producer.flush();
            throwBrokerFailure();
        }

        @Override
        public void close() {
            producer.close(Duration.ZERO);
        }

        /** Refusals that sending the same record again can only repeat; anything else may pass on a retry. */
        private static boolean refusesTheRecord(Exception e) {
            return e instanceof RecordTooLargeException || e instanceof RecordBatchTooLargeException
                    || e instanceof InvalidRecordException;
        }

        private void throwBrokerFailure() throws IOException {
            Exception e = brokerFailure.get();
            if (e != null) {
                throw new IOException("Writing dead letters to " + topic + " failed", e);
            }
        }
    }
}
