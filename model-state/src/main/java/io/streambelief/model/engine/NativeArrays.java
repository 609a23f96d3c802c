package io.streambelief.model.engine;

import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Bulk copies between Java {@code float[]} and ND4J's native buffers. ND4J's own
 * {@code Nd4j.create(float[])}, {@code assign} and {@code toFloatVector} move one element per
 * call; for a 235,146-parameter model that cost more per mini-batch than parts of the math, so
 * contiguous float arrays are copied with one memcpy instead.
 */
public final class NativeArrays {
    private NativeArrays() {}

    /** A new {@code rows x columns} float array in row-major order holding {@code values}. */
    public static INDArray matrix(float[] values, int rows, int columns) {
        INDArray array = Nd4j.createUninitialized(DataType.FLOAT, rows, columns);
        copyInto(array, values);
        return array;
    }

    /** Writes {@code values} into {@code target}, which must hold as many floats. */
    public static void copyInto(INDArray target, float[] values) {
        if (target.length() != values.length) {
            throw new IllegalArgumentException("Array of " + target.length() + " elements, got " + values.length);
        }
        if (isBulkCopyable(target)) {
            pointer(target).put(values, 0, values.length);
        } else {
            target.assign(Nd4j.create(values, target.shape(), target.ordering()));
        }
    }

    /** The elements of {@code source} in row-major order. */
    public static float[] copyOut(INDArray source) {
        return copyOut(source, null);
    }

    /** The elements of {@code source} in row-major order, in {@code target} (null: a new array). */
    public static float[] copyOut(INDArray source, float[] target) {
        int length = Math.toIntExact(source.length());
        if (target != null && target.length != length) {
            throw new IllegalArgumentException("Array of " + length + " elements, target of " + target.length);
        }
        float[] values = target != null ? target : new float[length];
        if (isBulkCopyable(source)) {
            pointer(source).get(values, 0, values.length);
        } else {
            System.arraycopy(source.dup('c').data().asFloat(), 0, values, 0, length);
        }
        return values;
    }

    private static boolean isBulkCopyable(INDArray array) {
        return array.dataType() == DataType.FLOAT && array.elementWiseStride() == 1
                && (array.ordering() == 'c' || array.isVector());
    }

    private static FloatPointer pointer(INDArray array) {
        FloatPointer base = new FloatPointer(array.data().pointer());
        return base.position(array.offset());
    }
}
