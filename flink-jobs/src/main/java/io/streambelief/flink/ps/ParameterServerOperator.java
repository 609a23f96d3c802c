package io.streambelief.flink.ps;

import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.TimestampedCollector;

import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamUpdate;

/**
 * Runs {@link ParameterServer} and writes its cached shards to keyed state right before each
 * checkpoint barrier leaves: a KeyedProcessFunction alone has no hook at that moment.
 */
public final class ParameterServerOperator extends KeyedProcessOperator<Integer, GradientSlice, ParamUpdate> {
    private static final long serialVersionUID = 1L;

    public ParameterServerOperator(ParameterServer parameterServer) {
        super(parameterServer);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        ParameterServer server = (ParameterServer) userFunction;
        for (int key : server.dirtyShards()) {
            setCurrentKey(key);
            server.writeBack(key);
        }
        server.dirtyShards().clear();
    }

    @Override
    public void finish() throws Exception {
        ((ParameterServer) userFunction).publishPending(new TimestampedCollector<>(output));
        super.finish();
    }
}
