package io.streambelief.model.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import io.streambelief.model.ModelSpec;

class NativeArraysTest {

    @Test
    void aMatrixHoldsTheValuesInRowMajorOrder() {
        INDArray matrix = NativeArrays.matrix(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);

        assertThat(matrix.shape()).containsExactly(2, 3);
        assertThat(matrix.getFloat(1, 0)).isEqualTo(4f);
        assertThat(NativeArrays.copyOut(matrix)).containsExactly(1, 2, 3, 4, 5, 6);
    }

    @Test
    void parametersCopiedIntoANetworkAreTheNetworksParameters() {
        MultiLayerNetwork network = ModelSpec.parse("mlp:5-4-3", 1).newNetwork();
        float[] values = new float[(int) network.numParams()];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.25f;
        }

        NativeArrays.copyInto(network.params(), values);

        assertThat(network.params().toFloatVector()).containsExactly(values);
        assertThat(network.getLayer(0).getParam("W").getFloat(0, 0)).isEqualTo(values[0]);
    }

    @Test
    void aViewIntoTheMiddleOfABufferIsCopiedAtItsOffset() {
        INDArray whole = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 10);
        INDArray middle = whole.get(NDArrayIndex.interval(3, 6));

        NativeArrays.copyInto(middle, new float[] {7, 8, 9});

        assertThat(whole.toFloatVector()).containsExactly(0, 0, 0, 7, 8, 9, 0, 0, 0, 0);
        assertThat(NativeArrays.copyOut(middle)).containsExactly(7, 8, 9);
    }

    @Test
    void aColumnOrderMatrixComesOutInRowMajorOrder() {
        INDArray fortran = Nd4j.create(new float[] {1, 2, 3, 4, 5, 6}, new long[] {2, 3}, 'f');

        assertThat(NativeArrays.copyOut(fortran)).containsExactly(fortran.dup('c').data().asFloat());
    }
}
