package io.streambelief.serving;

import static io.streambelief.serving.ModelStoreTest.DEFINITION;
import static io.streambelief.serving.ModelStoreTest.LAYOUT;
import static io.streambelief.serving.ModelStoreTest.define;
import static io.streambelief.serving.ModelStoreTest.publishShard;
import static io.streambelief.serving.ModelStoreTest.ramp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.Int64Value;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.serving.tfserving.DataType;
import io.streambelief.serving.tfserving.GetModelMetadataRequest;
import io.streambelief.serving.tfserving.ModelSpec;
import io.streambelief.serving.tfserving.PredictRequest;
import io.streambelief.serving.tfserving.PredictResponse;
import io.streambelief.serving.tfserving.PredictionServiceGrpc;
import io.streambelief.serving.tfserving.SignatureDef;
import io.streambelief.serving.tfserving.SignatureDefMap;
import io.streambelief.serving.tfserving.TensorProto;
import io.streambelief.serving.tfserving.TensorShapeProto;

/**
 * TF Serving's gRPC PredictionService, as a client generated from TF Serving's protos sees it:
 * the same probabilities as REST, the same signature, and each refusal as the gRPC status such a
 * client expects.
 */
class GrpcPredictionServiceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "s3cret";
    private static final float[][] ROWS = {{1, -1, 0.5f, 2}, {0, 0, 0, 0}, {3, 2, 1, 0}};

    private static final ModelStore store = new ModelStore();
    private static ModelServer server;
    private static ManagedChannel channel;
    private static PredictionServiceGrpc.PredictionServiceBlockingStub client;

    @BeforeAll
    static void start() throws Exception {
        server = ModelServer.start(ModelServer.Settings.defaults().withPort(0).withGrpcPort(0).withAuthToken(TOKEN),
                store);
        define(store, DEFINITION);
        float[] parameters = ramp(LAYOUT.numParams());
        for (int shard = 0; shard < LAYOUT.shardCount(); shard++) {
            publishShard(store, new ParamUpdate("m", shard, 5, 320, 1_000 + shard, LAYOUT.slice(parameters, shard)));
        }
        store.publish();
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
        client = PredictionServiceGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(bearer(TOKEN)))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
    }

    @Test
    void predictAnswersTheProbabilitiesRestAnswers() throws Exception {
        PredictResponse response = client.predict(request("m", floatTensor(ROWS)));

        TensorProto output = response.getOutputsOrThrow(GrpcPredictionService.OUTPUT);
        assertThat(output.getDtype()).isEqualTo(DataType.DT_FLOAT);
        assertThat(output.getTensorShape().getDimList()).extracting(TensorShapeProto.Dim::getSize)
                .containsExactly(3L, 2L);
        JsonNode rest = rest("/v1/models/m:predict", "{\"instances\": [[1, -1, 0.5, 2], [0, 0, 0, 0], [3, 2, 1, 0]]}");
        for (int row = 0; row < ROWS.length; row++) {
            for (int k = 0; k < 2; k++) {
                assertThat(output.getFloatVal(row * 2 + k)).as("row %d, class %d", row, k)
                        .isEqualTo((float) rest.path("predictions").get(row).get(k).asDouble());
            }
        }
        assertThat(response.getModelSpec().getName()).isEqualTo("m");
        assertThat(response.getModelSpec().getVersion().getValue()).isEqualTo(rest.path("model_version").asLong());
        assertThat(response.getModelSpec().getSignatureName()).isEqualTo("serving_default");
    }

    @Test
    void tensorContentAndDoublesAreReadLikeFloatValues() {
        TensorProto floats = floatTensor(ROWS);
        ByteBuffer bytes = ByteBuffer.allocate(12 * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        TensorProto.Builder doubles = TensorProto.newBuilder().setDtype(DataType.DT_DOUBLE)
                .setTensorShape(floats.getTensorShape());
        for (float[] row : ROWS) {
            for (float v : row) {
                bytes.putFloat(v);
                doubles.addDoubleVal(v);
            }
        }
        TensorProto content = floats.toBuilder().clearFloatVal().setTensorContent(ByteString.copyFrom(bytes.array()))
                .build();

        TensorProto expected = client.predict(request("m", floats)).getOutputsOrThrow(GrpcPredictionService.OUTPUT);
        assertThat(client.predict(request("m", content)).getOutputsOrThrow(GrpcPredictionService.OUTPUT))
                .isEqualTo(expected);
        assertThat(client.predict(request("m", doubles.build())).getOutputsOrThrow(GrpcPredictionService.OUTPUT))
                .isEqualTo(expected);
    }

    @Test
    void theMetadataHasTheServingSignature() throws Exception {
        var response = client.getModelMetadata(GetModelMetadataRequest.newBuilder()
                .setModelSpec(ModelSpec.newBuilder().setName("m")).addMetadataField("signature_def").build());

        SignatureDef signature = response.getMetadataOrThrow("signature_def").unpack(SignatureDefMap.class)
                .getSignatureDefOrThrow("serving_default");
        assertThat(signature.getMethodName()).isEqualTo("tensorflow/serving/predict");
        assertThat(signature.getInputsOrThrow("x").getTensorShape().getDimList())
                .extracting(TensorShapeProto.Dim::getSize).containsExactly(-1L, 4L);
        assertThat(signature.getOutputsOrThrow("probabilities").getTensorShape().getDimList())
                .extracting(TensorShapeProto.Dim::getSize).containsExactly(-1L, 2L);
        assertThat(response.getModelSpec().getVersion().getValue())
                .isEqualTo(rest("/v1/models/m", null).path("model_version").asLong());
    }

    @Test
    void refusalsAreTheGrpcStatusesTfServingClientsExpect() {
        assertRefused(() -> client.predict(request("nope", floatTensor(ROWS))), Status.Code.NOT_FOUND,
                "model 'nope' is not served here; models: [m]");
        assertRefused(() -> client.predict(request("m", floatTensor(new float[][] {{1, 2, 3}}))),
                Status.Code.INVALID_ARGUMENT, "input shape must be [n, 4]");
        TensorProto nan = floatTensor(new float[][] {{1, Float.NaN, 3, 4}});
        assertRefused(() -> client.predict(request("m", nan)), Status.Code.INVALID_ARGUMENT, "values must be finite");
        TensorProto ints = floatTensor(ROWS).toBuilder().setDtype(DataType.DT_INT32).build();
        assertRefused(() -> client.predict(request("m", ints)), Status.Code.INVALID_ARGUMENT, "must be DT_FLOAT");
        TensorProto full = floatTensor(ROWS);
        TensorProto shortOfValues = full.toBuilder().clearFloatVal()
                .addAllFloatVal(full.getFloatValList().subList(1, full.getFloatValCount())).build();
        assertRefused(() -> client.predict(request("m", shortOfValues)), Status.Code.INVALID_ARGUMENT,
                "needs 12 values, got 11");
        assertRefused(() -> client.predict(PredictRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName("m"))
                .build()), Status.Code.INVALID_ARGUMENT, "send one input tensor");
        assertRefused(() -> client.predict(request("m", floatTensor(ROWS)).toBuilder()
                .setModelSpec(ModelSpec.newBuilder().setName("m").setVersionLabel("best")).build()),
                Status.Code.NOT_FOUND, "unknown label 'best'");
        assertRefused(() -> client.predict(request("m", floatTensor(ROWS)).toBuilder()
                .setModelSpec(ModelSpec.newBuilder().setName("m").setVersion(Int64Value.of(7))).build()),
                Status.Code.NOT_FOUND, "serves only its newest version");
        TensorProto tooMany = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(10_001, 4))
                .build();
        assertRefused(() -> client.predict(request("m", tooMany)), Status.Code.RESOURCE_EXHAUSTED, "split it");
        assertRefused(() -> client.getModelMetadata(GetModelMetadataRequest.newBuilder()
                .setModelSpec(ModelSpec.newBuilder().setName("m")).addMetadataField("saved_model").build()),
                Status.Code.INVALID_ARGUMENT, "metadata_field must be exactly ['signature_def']");
    }

    @Test
    void withoutTheTokenEveryCallIsUnauthenticated() {
        var anonymous = PredictionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        assertRefused(() -> anonymous.predict(request("m", floatTensor(ROWS))), Status.Code.UNAUTHENTICATED,
                "missing or wrong bearer token");
        var wrong = anonymous.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(bearer("guess")));
        assertRefused(() -> wrong.getModelMetadata(GetModelMetadataRequest.newBuilder()
                .setModelSpec(ModelSpec.newBuilder().setName("m")).addMetadataField("signature_def").build()),
                Status.Code.UNAUTHENTICATED, "missing or wrong bearer token");
    }

    @Test
    void httpRefusalsMapToTheirGrpcStatuses() {
        assertThat(List.of(400, 401, 404, 413, 501, 503, 409, 500)).extracting(GrpcPredictionService::status)
                .extracting(Status::getCode).containsExactly(Status.Code.INVALID_ARGUMENT, Status.Code.UNAUTHENTICATED,
                        Status.Code.NOT_FOUND, Status.Code.RESOURCE_EXHAUSTED, Status.Code.UNIMPLEMENTED,
                        Status.Code.UNAVAILABLE, Status.Code.FAILED_PRECONDITION, Status.Code.INTERNAL);
    }

    private static void assertRefused(Runnable call, Status.Code code, String message) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }

    private static PredictRequest request(String model, TensorProto input) {
        return PredictRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName(model).setSignatureName(
                "serving_default")).putInputs("x", input).build();
    }

    private static TensorProto floatTensor(float[][] rows) {
        TensorProto.Builder tensor = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
                .setTensorShape(shape(rows.length, rows[0].length));
        for (float[] row : rows) {
            for (float v : row) {
                tensor.addFloatVal(v);
            }
        }
        return tensor.build();
    }

    private static TensorShapeProto shape(long rows, long width) {
        return TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(rows))
                .addDim(TensorShapeProto.Dim.newBuilder().setSize(width)).build();
    }

    private static Metadata bearer(String token) {
        Metadata metadata = new Metadata();
        metadata.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return metadata;
    }

    private static JsonNode rest(String path, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .header("Authorization", "Bearer " + TOKEN);
        request = body == null ? request.GET() : request.POST(HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> response = HttpClient.newHttpClient().send(request.build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }
}
