package io.streambelief.gpu;

import org.apache.flink.api.common.externalresource.ExternalResourceDriver;
import org.apache.flink.api.common.externalresource.ExternalResourceDriverFactory;
import org.apache.flink.configuration.Configuration;

/**
 * What {@code external-resource.gpu.driver-factory.class} names; Flink finds it in the
 * TaskManager's {@code plugins/} folder and hands it the {@code external-resource.gpu.param.*} keys.
 */
public final class GpuDriverFactory implements ExternalResourceDriverFactory {
    @Override
    public ExternalResourceDriver createExternalResourceDriver(Configuration config) {
        return GpuDriver.fromParameters(config.toMap());
    }
}
