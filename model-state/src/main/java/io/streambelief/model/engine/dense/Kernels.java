package io.streambelief.model.engine.dense;

import io.streambelief.model.DenseNetwork;

/**
 * The few primitive operations a dense network's forward and backward pass is made of, over
 * buffers of floats that live wherever the implementation computes (the Java heap for
 * {@link CpuKernels}, GPU memory for the CUDA ones). {@link DenseEngine} composes them; keeping
 * the composition on this side of the interface is what lets it be tested against DL4J on a
 * machine without a GPU.
 *
 * <p>Matrices are column-major, as in BLAS: a {@code rows x columns} matrix holds column
 * {@code c} at {@code [c * rows, (c + 1) * rows)}. A mini-batch of {@code n} examples of width
 * {@code w} is a {@code w x n} matrix: one column, contiguous, per example. Operations are queued
 * in order; {@link #download} waits for everything queued before it.
 */
public interface Kernels extends AutoCloseable {

    /** A run of floats in this implementation's memory. */
    interface Buffer {
        long length();

        /** The floats {@code [offset, offset + length)} of this buffer, sharing its memory. */
        Buffer slice(long offset, long length);
    }

    /** A new buffer of {@code length} zeros. */
    Buffer allocate(long length);

    /** Gives back a buffer from {@link #allocate} (not a slice); it is unusable afterwards. */
    void free(Buffer buffer);

    /** A new buffer holding {@code values}. */
    default Buffer upload(float[] values) {
        Buffer buffer = allocate(values.length);
        upload(values, values.length, buffer);
        return buffer;
    }

    /** Copies {@code source[0, count)} to the start of {@code target}. */
    void upload(float[] source, int count, Buffer target);

    /**
     * Starts copying the start of {@code source} to {@code target[offset, offset + count)} behind
     * the work queued so far; the work queued after it may run meanwhile. The target holds the
     * floats once {@link Download#finish()} returned, not before.
     */
    Download startDownload(Buffer source, float[] target, int offset, int count);

    /** Copies the start of {@code source} to {@code target[0, count)} once all queued work is done. */
    default void download(Buffer source, float[] target, int count) {
        startDownload(source, target, 0, count).finish();
    }

    /** A copy to the host in flight. */
    interface Download {
        /** Waits for the copy and writes its floats to the target; calling it again is harmless. */
        void finish();
    }

    /**
     * {@code C = op(A) op(B)}, where {@code op(A)} is {@code m x k}, {@code op(B)} is
     * {@code k x n}, and {@code op} transposes when asked; {@code ld*} are the leading dimensions.
     */
    void gemm(boolean transposeA, boolean transposeB, int m, int n, int k, Buffer a, int lda, Buffer b, int ldb,
            Buffer c, int ldc);

    /** Adds {@code bias[r]} to every element of row {@code r} of the {@code rows x columns} matrix. */
    void addBias(Buffer matrix, Buffer bias, int rows, int columns);

    /** Replaces {@code values[0, count)} by their activation. */
    void activate(DenseNetwork.Activation activation, Buffer values, int count);

    /**
     * Multiplies {@code gradient[0, count)} by the activation's derivative, written in terms of
     * the activation's outputs (ReLU: {@code a > 0}; tanh: {@code 1 - a²}; sigmoid: {@code a(1 - a)}).
     */
    void multiplyByDerivative(DenseNetwork.Activation activation, Buffer activations, Buffer gradient, int count);

    /**
     * The output layer's loss for a mini-batch of {@code batch} columns of {@code classes} logits
     * and one label (a class index, as a float) per column: writes the logits' gradient of the
     * loss times {@code scale} to {@code delta}, each example's loss to {@code stats[i]} and 1 or 0
     * to {@code stats[batch + i]} when its most probable class is (is not) its label.
     */
    void loss(DenseNetwork.Loss loss, Buffer logits, Buffer labels, int classes, int batch, float scale, Buffer delta,
            Buffer stats);

    /** {@code sums[r]} = the sum of row {@code r} of the {@code rows x columns} matrix. */
    void rowSums(Buffer matrix, int rows, int columns, Buffer sums);

    /** Frees what this implementation holds; buffers are unusable afterwards. */
    @Override
    void close();
}
