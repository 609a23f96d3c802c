package io.streambelief.serving;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import com.google.protobuf.Any;
import com.google.protobuf.Int64Value;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.streambelief.serving.tfserving.DataType;
import io.streambelief.serving.tfserving.GetModelMetadataRequest;
import io.streambelief.serving.tfserving.GetModelMetadataResponse;
import io.streambelief.serving.tfserving.ModelSpec;
import io.streambelief.serving.tfserving.PredictRequest;
import io.streambelief.serving.tfserving.PredictResponse;
import io.streambelief.serving.tfserving.PredictionServiceGrpc;
import io.streambelief.serving.tfserving.SignatureDef;
import io.streambelief.serving.tfserving.SignatureDefMap;
import io.streambelief.serving.tfserving.TensorInfo;
import io.streambelief.serving.tfserving.TensorProto;
import io.streambelief.serving.tfserving.TensorShapeProto;

/**
 * TF Serving's gRPC {@code tensorflow.serving.PredictionService}: {@code Predict} and
 * {@code GetModelMetadata} of dense models, with the signature the REST metadata shows (input
 * {@code x}, {@code [-1, inputs]} floats; output {@code probabilities}, {@code [-1, classes]}).
 * The same models, parameter sets ({@code version_label} {@code latest} or {@code average}),
 * batching and refusals as REST: an {@link HttpError} becomes the gRPC status a TF Serving client
 * expects for it (400 INVALID_ARGUMENT, 404 NOT_FOUND, 413 RESOURCE_EXHAUSTED, 501 UNIMPLEMENTED).
 */
final class GrpcPredictionService extends PredictionServiceGrpc.PredictionServiceImplBase {
    static final String SIGNATURE = "serving_default";
    static final String INPUT = "x";
    static final String OUTPUT = "probabilities";
    static final String SIGNATURE_FIELD = "signature_def";
    /** The gRPC status of each HTTP status the endpoints refuse with, as gRPC's own mapping and TF Serving use them. */
    private static final Map<Integer, Status> STATUSES = Map.of(400, Status.INVALID_ARGUMENT, 401, Status.UNAUTHENTICATED,
            404, Status.NOT_FOUND, 413, Status.RESOURCE_EXHAUSTED, 501, Status.UNIMPLEMENTED, 503, Status.UNAVAILABLE);

    private final ModelStore store;
    private final PredictionBatcher.Settings batching;
    private final ServingMetrics metrics;

    GrpcPredictionService(ModelStore store, PredictionBatcher.Settings batching, ServingMetrics metrics) {
        this.store = store;
        this.batching = batching;
        this.metrics = metrics;
    }

    @Override
    public void predict(PredictRequest request, StreamObserver<PredictResponse> answer) {
        respond("grpc:Predict", answer, () -> predict(request));
    }

    @Override
    public void getModelMetadata(GetModelMetadataRequest request, StreamObserver<GetModelMetadataResponse> answer) {
        respond("grpc:GetModelMetadata", answer, () -> metadata(request));
    }

    private PredictResponse predict(PredictRequest request) {
        ServedModel model = ModelsRouter.model(store, request.getModelSpec().getName());
        ServedModel.Parameters parameters = parameters(model, request.getModelSpec());
        DenseModel dense = model.fold(d -> d, wideDeep -> {
            throw new HttpError(501, "model '" + model.name() + "' is wide & deep; over gRPC only dense models are "
                    + "served so far: use REST with named fields");
        });
        if (request.getInputsCount() != 1) {
            throw new HttpError(400, "send one input tensor ('" + INPUT + "'); got " + request.getInputsCount());
        }
        TensorProto input = request.getInputsMap().values().iterator().next();
        float[][] rows = rows(input, dense.spec().numInputs());
        float[][] outputs = dense.predict(rows, parameters, batching);
        TensorProto.Builder tensor = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
                .setTensorShape(shape(outputs.length, outputs[0].length));
        for (float[] row : outputs) {
            for (float p : row) {
                tensor.addFloatVal(p);
            }
        }
        return PredictResponse.newBuilder().setModelSpec(spec(model)).putOutputs(OUTPUT, tensor.build()).build();
    }

    private GetModelMetadataResponse metadata(GetModelMetadataRequest request) {
        ServedModel model = ModelsRouter.model(store, request.getModelSpec().getName());
        if (!request.getMetadataFieldList().equals(List.of(SIGNATURE_FIELD))) {
            throw new HttpError(400, "metadata_field must be exactly ['" + SIGNATURE_FIELD + "'] (as TF Serving's); got "
                    + request.getMetadataFieldList());
        }
        SignatureDef signature = SignatureDef.newBuilder()
                .putInputs(INPUT, tensorInfo(INPUT, model.spec().numInputs()))
                .putOutputs(OUTPUT, tensorInfo(OUTPUT, model.spec().numOutputs()))
                .setMethodName("tensorflow/serving/predict").build();
        return GetModelMetadataResponse.newBuilder().setModelSpec(spec(model))
                .putMetadata(SIGNATURE_FIELD, Any.pack(SignatureDefMap.newBuilder().putSignatureDef(SIGNATURE, signature)
                        .build()))
                .build();
    }

    /** The parameter set a request's spec names by label; a pinned version must be the one served. */
    private static ServedModel.Parameters parameters(ServedModel model, ModelSpec spec) {
        if (!spec.getSignatureName().isEmpty() && !spec.getSignatureName().equals(SIGNATURE)) {
            throw new HttpError(400, "unknown signature '" + spec.getSignatureName() + "'; the model has '" + SIGNATURE
                    + "'");
        }
        if (spec.hasVersion() && spec.getVersion().getValue() != model.modelVersion()) {
            throw new HttpError(404, "version " + spec.getVersion().getValue() + " of model '" + model.name()
                    + "' is not served: the model learns continuously and serves only its newest version, now "
                    + model.modelVersion() + "; leave the version out");
        }
        return spec.getVersionLabel().isEmpty() ? model.defaultParameters()
                : ModelsRouter.parameters(model, spec.getVersionLabel());
    }

    /** A {@code [n, width]} (or, for one row, {@code [width]}) float tensor as rows, checked as REST checks JSON. */
    static float[][] rows(TensorProto tensor, int width) {
        if (tensor.getDtype() != DataType.DT_FLOAT && tensor.getDtype() != DataType.DT_DOUBLE) {
            throw new HttpError(400, "input must be DT_FLOAT (or DT_DOUBLE), got " + tensor.getDtype());
        }
        var dims = tensor.getTensorShape().getDimList();
        long rows = dims.size() == 1 ? 1 : dims.size() == 2 ? dims.get(0).getSize() : -1;
        if (rows < 1 || dims.get(dims.size() - 1).getSize() != width) {
            throw new HttpError(400, "input shape must be [n, " + width + "] (or [" + width + "] for one row), got "
                    + dims.stream().map(d -> Long.toString(d.getSize())).toList());
        }
        if (rows > PredictEndpoint.MAX_INSTANCES) {
            throw new HttpError(413, "more than " + PredictEndpoint.MAX_INSTANCES + " rows in one request; split it");
        }
        float[] values = values(tensor);
        if (values.length != rows * width) {
            throw new HttpError(400, "input shape [" + rows + ", " + width + "] needs " + rows * width + " values, got "
                    + values.length);
        }
        float[][] result = new float[(int) rows][width];
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new HttpError(400, "input value " + i + " is " + values[i] + "; values must be finite");
            }
            result[i / width][i % width] = values[i];
        }
        return result;
    }

    /** The values, from {@code tensor_content} (little-endian) or the typed field, whichever the client used. */
    private static float[] values(TensorProto tensor) {
        boolean floats = tensor.getDtype() == DataType.DT_FLOAT;
        if (!tensor.getTensorContent().isEmpty()) {
            ByteBuffer content = tensor.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            int size = floats ? Float.BYTES : Double.BYTES;
            if (content.remaining() % size != 0) {
                throw new HttpError(400, "tensor_content has " + content.remaining() + " bytes, not a whole number of "
                        + tensor.getDtype() + " values");
            }
            float[] values = new float[content.remaining() / size];
            for (int i = 0; i < values.length; i++) {
                values[i] = floats ? content.getFloat() : (float) content.getDouble();
            }
            return values;
        }
        int count = floats ? tensor.getFloatValCount() : tensor.getDoubleValCount();
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = floats ? tensor.getFloatVal(i) : (float) tensor.getDoubleVal(i);
        }
        return values;
    }

    private static ModelSpec spec(ServedModel model) {
        return ModelSpec.newBuilder().setName(model.name()).setVersion(Int64Value.of(model.modelVersion()))
                .setSignatureName(SIGNATURE).build();
    }

    private static TensorShapeProto shape(long rows, long width) {
        return TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(rows))
                .addDim(TensorShapeProto.Dim.newBuilder().setSize(width)).build();
    }

    private static TensorInfo tensorInfo(String name, int width) {
        return TensorInfo.newBuilder().setName(name).setDtype(DataType.DT_FLOAT).setTensorShape(shape(-1, width)).build();
    }

    /** Answers with what {@code work} gives, or with the gRPC status of its refusal; counted as REST requests are. */
    private <T> void respond(String endpoint, StreamObserver<T> answer, Supplier<T> work) {
        long start = System.nanoTime();
        int status = 200;
        try {
            answer.onNext(work.get());
            answer.onCompleted();
        } catch (HttpError e) {
            status = e.status;
            answer.onError(status(e.status).withDescription(e.getMessage()).asRuntimeException());
        } catch (RuntimeException e) {
            status = 500;
            answer.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
        } finally {
            metrics.record(endpoint, status, System.nanoTime() - start);
        }
    }

    /** The gRPC status for an HTTP one; other 4xx are FAILED_PRECONDITION, other 5xx INTERNAL. */
    static Status status(int httpStatus) {
        return STATUSES.getOrDefault(httpStatus, httpStatus < 500 ? Status.FAILED_PRECONDITION : Status.INTERNAL);
    }
}
