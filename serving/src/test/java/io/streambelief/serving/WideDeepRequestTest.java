package io.streambelief.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.kafka.sparse.SparseExampleParser;

/** A wide &amp; deep model's request, read as a stream of instances, each through the schema training uses. */
class WideDeepRequestTest {
    private static final FeatureSchema FLIGHTS = FeatureSchema.load("flights");
    private static final String FLIGHT = "{\"date\": \"04010005\", \"distance\": 111, \"origin\": \"TUL\", "
            + "\"destination\": \"OKC\"}";

    @Test
    void eachInstanceBecomesTheIdsAndInputsTheSchemaGivesIt() throws Exception {
        String other = "{\"date\": \"01020930\", \"distance\": 2475, \"origin\": \"JFK\", \"destination\": \"LAX\"}";
        WideDeepRequest read = read("{\"signature_name\": \"x\", \"instances\": [" + FLIGHT + ", "
                + other + "]}");

        assertThat(read.size()).isEqualTo(2);
        FeatureSchema.Features first = SparseExampleParser.requestFeatures(FLIGHTS, new ObjectMapper().readTree(FLIGHT));
        FeatureSchema.Features second = SparseExampleParser.requestFeatures(FLIGHTS, new ObjectMapper().readTree(other));
        assertThat(read.ids()).startsWith(first.ids()).endsWith(second.ids()).hasSize(2 * FLIGHTS.slots());
        assertThat(read.numerics()).startsWith(first.numerics()).endsWith(second.numerics());
    }

    /** 16 MiB of the smallest instances would be a million row lookups for one request. */
    @Test
    void aRequestOfMoreInstancesThanTheLimitIsRefusedBeforeItIsAllRead() {
        StringBuilder body = new StringBuilder("{\"instances\": [");
        for (int i = 0; i <= PredictEndpoint.MAX_INSTANCES; i++) {
            body.append(i == 0 ? "" : ",").append(FLIGHT);
        }
        body.append(",{\"this\": is not even JSON");

        HttpError refused = catchThrowableOfType(HttpError.class, () -> read(body.toString()));

        assertThat(refused.status).isEqualTo(413);
        assertThat(refused).hasMessage("more than 10000 instances in one request; split it");
    }

    @Test
    void badRequestsSayWhatIsWrong() {
        assertThat(refusal("{\"instances\": [" + FLIGHT + ", {\"origin\": \"SFO\"}]}"))
                .isEqualTo("instance 1: missing field 'date'");
        assertThat(refusal("{\"instances\": []}")).startsWith("model flights takes named fields");
        assertThat(refusal("{\"instances\": " + FLIGHT + "}")).startsWith("model flights takes named fields");
        assertThat(refusal("[" + FLIGHT + "]")).startsWith("model flights takes named fields");
        assertThat(refusal("{\"instances\": [" + FLIGHT + "]} {}")).isEqualTo(
                "unexpected content after the JSON object");
        assertThat(refusal("{\"instances\": [" + FLIGHT)).startsWith("request is not JSON");
    }

    private static String refusal(String body) {
        HttpError refused = catchThrowableOfType(HttpError.class, () -> read(body));
        assertThat(refused.status).as(body).isEqualTo(400);
        return refused.getMessage();
    }

    private static WideDeepRequest read(String body) throws Exception {
        return WideDeepRequest.read(body.getBytes(StandardCharsets.UTF_8), FLIGHTS, "flights");
    }
}
