package io.streambelief.flink.sparse;

import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import io.streambelief.flink.io.RowReply;
import io.streambelief.flink.io.RowRequest;
import io.streambelief.model.record.RowGradient;
import io.streambelief.model.record.RowUpdate;

/**
 * Runs an {@link EmbeddingShard} and publishes its dirty rows right before each checkpoint
 * barrier, the one hook a function does not have: a row update the checkpoint holds is then
 * always published, even if the job fails before the next publish interval.
 */
public final class EmbeddingShardOperator extends KeyedCoProcessOperator<Long, RowRequest, RowGradient, RowReply> {
    private static final long serialVersionUID = 1L;

    public EmbeddingShardOperator(EmbeddingShard shard) {
        super(shard);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        for (RowUpdate update : ((EmbeddingShard) getUserFunction()).drain()) {
            output.collect(EmbeddingShard.ROW_UPDATES, new StreamRecord<>(update));
        }
    }
}
