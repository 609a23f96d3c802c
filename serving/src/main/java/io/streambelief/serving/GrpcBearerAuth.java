package io.streambelief.serving;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * With {@code --auth-token}, every gRPC call must carry {@code authorization: Bearer <token>}
 * metadata, the same token REST requests carry in their header; others end UNAUTHENTICATED.
 */
final class GrpcBearerAuth implements ServerInterceptor {
    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final BearerAuth auth;
    private final ServingMetrics metrics;

    GrpcBearerAuth(BearerAuth auth, ServingMetrics metrics) {
        this.auth = auth;
        this.metrics = metrics;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        if (auth.authorizes(headers.get(AUTHORIZATION))) {
            return next.startCall(call, headers);
        }
        metrics.record("grpc:" + call.getMethodDescriptor().getBareMethodName(), 401, 0);
        call.close(Status.UNAUTHENTICATED.withDescription(
                "missing or wrong bearer token; send metadata 'authorization: Bearer <token>'"), new Metadata());
        return new ServerCall.Listener<>() {};
    }
}
