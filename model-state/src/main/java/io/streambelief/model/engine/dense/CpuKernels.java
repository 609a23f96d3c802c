package io.streambelief.model.engine.dense;

import java.util.Objects;

import io.streambelief.model.DenseNetwork;

/**
 * The primitives in plain Java on the heap: the reference the CUDA kernels are held to, and what
 * lets {@link DenseEngine}'s composition be checked against DL4J without a GPU. Written for
 * clarity, not speed — the CPU engine that trains is DL4J's.
 */
public final class CpuKernels implements Kernels {
    /** DL4J clips probabilities the same way before taking their logarithm. */
    static final float SOFTMAX_CLIP = 1e-10f;
    static final float SIGMOID_CLIP = 1e-5f;

    @Override
    public Buffer allocate(long length) {
        return new HeapBuffer(new float[Math.toIntExact(length)], 0, Math.toIntExact(length));
    }

    @Override
    public void free(Buffer buffer) {}

    @Override
    public void upload(float[] source, int count, Buffer target) {
        HeapBuffer t = heap(target, count);
        System.arraycopy(source, 0, t.data, t.offset, count);
    }

    /**
     * Copies when finished, not when started — as late as a GPU's copy may land — so that a
     * composition that forgets to finish a download, or reads its target too early, fails its
     * tests here too.
     */
    @Override
    public Download startDownload(Buffer source, float[] target, int offset, int count) {
        HeapBuffer s = heap(source, count);
        return () -> System.arraycopy(s.data, s.offset, target, offset, count);
    }

    @Override
    public void gemm(boolean transposeA, boolean transposeB, int m, int n, int k, Buffer a, int lda, Buffer b, int ldb,
            Buffer c, int ldc) {
        HeapBuffer ha = heap(a, 0);
        HeapBuffer hb = heap(b, 0);
        HeapBuffer hc = heap(c, (long) (n - 1) * ldc + m);
        float[] av = ha.data;
        float[] bv = hb.data;
        float[] cv = hc.data;
        for (int j = 0; j < n; j++) {
            int cColumn = hc.offset + j * ldc;
            for (int i = 0; i < m; i++) {
                float sum = 0;
                for (int l = 0; l < k; l++) {
                    float x = transposeA ? av[ha.offset + l + i * lda] : av[ha.offset + i + l * lda];
                    float y = transposeB ? bv[hb.offset + j + l * ldb] : bv[hb.offset + l + j * ldb];
                    sum += x * y;
                }
                cv[cColumn + i] = sum;
            }
        }
    }

    @Override
    public void addBias(Buffer matrix, Buffer bias, int rows, int columns) {
        HeapBuffer m = heap(matrix, (long) rows * columns);
        HeapBuffer b = heap(bias, rows);
        for (int c = 0; c < columns; c++) {
            for (int r = 0; r < rows; r++) {
                m.data[m.offset + c * rows + r] += b.data[b.offset + r];
            }
        }
    }

    @Override
    public void activate(DenseNetwork.Activation activation, Buffer values, int count) {
        HeapBuffer v = heap(values, count);
        for (int i = v.offset; i < v.offset + count; i++) {
            float z = v.data[i];
            v.data[i] = switch (activation) {
                case IDENTITY -> z;
                case RELU -> z > 0 ? z : 0f;
                case TANH -> (float) Math.tanh(z);
                case SIGMOID -> sigmoid(z);
            };
        }
    }

    @Override
    public void multiplyByDerivative(DenseNetwork.Activation activation, Buffer activations, Buffer gradient,
            int count) {
        HeapBuffer a = heap(activations, count);
        HeapBuffer g = heap(gradient, count);
        for (int i = 0; i < count; i++) {
            float out = a.data[a.offset + i];
            float derivative = switch (activation) {
                case IDENTITY -> 1f;
                case RELU -> out > 0 ? 1f : 0f;
                case TANH -> 1 - out * out;
                case SIGMOID -> out * (1 - out);
            };
            g.data[g.offset + i] *= derivative;
        }
    }

    @Override
    public void loss(DenseNetwork.Loss loss, Buffer logits, Buffer labels, int classes, int batch, float scale,
            Buffer delta, Buffer stats) {
        HeapBuffer z = heap(logits, (long) classes * batch);
        HeapBuffer y = heap(labels, batch);
        HeapBuffer d = heap(delta, (long) classes * batch);
        HeapBuffer s = heap(stats, 2L * batch);
        for (int e = 0; e < batch; e++) {
            int label = (int) y.data[y.offset + e];
            int column = e * classes;
            float exampleLoss;
            boolean correct;
            if (loss == DenseNetwork.Loss.SOFTMAX_CROSS_ENTROPY) {
                float max = Float.NEGATIVE_INFINITY;
                int argMax = 0;
                for (int c = 0; c < classes; c++) {
                    float v = z.data[z.offset + column + c];
                    if (v > max) {
                        max = v;
                        argMax = c;
                    }
                }
                float sum = 0;
                for (int c = 0; c < classes; c++) {
                    sum += (float) Math.exp(z.data[z.offset + column + c] - max);
                }
                for (int c = 0; c < classes; c++) {
                    float p = (float) Math.exp(z.data[z.offset + column + c] - max) / sum;
                    d.data[d.offset + column + c] = (p - (c == label ? 1 : 0)) * scale;
                }
                float pLabel = (float) Math.exp(z.data[z.offset + column + label] - max) / sum;
                exampleLoss = (float) -Math.log(Math.max(pLabel, SOFTMAX_CLIP));
                correct = argMax == label;
            } else {
                float p = sigmoid(z.data[z.offset + e]);
                d.data[d.offset + e] = (p - label) * scale;
                float clipped = Math.min(Math.max(p, SIGMOID_CLIP), 1 - SIGMOID_CLIP);
                exampleLoss = (float) -(label * Math.log(clipped) + (1 - label) * Math.log(1 - clipped));
                correct = (p >= 0.5f ? 1 : 0) == label;
            }
            s.data[s.offset + e] = exampleLoss;
            s.data[s.offset + batch + e] = correct ? 1f : 0f;
        }
    }

    @Override
    public void rowSums(Buffer matrix, int rows, int columns, Buffer sums) {
        HeapBuffer m = heap(matrix, (long) rows * columns);
        HeapBuffer s = heap(sums, rows);
        for (int r = 0; r < rows; r++) {
            float sum = 0;
            for (int c = 0; c < columns; c++) {
                sum += m.data[m.offset + c * rows + r];
            }
            s.data[s.offset + r] = sum;
        }
    }

    @Override
    public void close() {}

    private static float sigmoid(float z) {
        return (float) (1 / (1 + Math.exp(-z)));
    }

    private static HeapBuffer heap(Buffer buffer, long needed) {
        HeapBuffer heap = (HeapBuffer) Objects.requireNonNull(buffer, "buffer");
        if (needed > heap.size) {
            throw new IllegalArgumentException("Buffer of " + heap.size + " floats, operation needs " + needed);
        }
        return heap;
    }

    private record HeapBuffer(float[] data, int offset, int size) implements Buffer {
        @Override
        public long length() {
            return size;
        }

        @Override
        public Buffer slice(long offset, long length) {
            if (offset < 0 || length < 0 || offset + length > size) {
                throw new IndexOutOfBoundsException("Slice [" + offset + ", " + (offset + length) + ") of a buffer of "
                        + size + " floats");
            }
            return new HeapBuffer(data, this.offset + (int) offset, (int) length);
        }
    }
}
