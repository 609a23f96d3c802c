// Element-wise kernels of Streambelief's CUDA engine, compiled at run time by NVRTC.
// Each one mirrors a method of io.streambelief.model.engine.dense.CpuKernels (the reference the
// tests hold them to); the matrix products are cuBLAS's. Matrices are column-major; a mini-batch
// is one column per example. Grid-stride loops, so any grid size covers any count.

// Activation kinds, in the order of DenseNetwork.Activation.
#define IDENTITY 0
#define RELU 1
#define TANH 2
#define SIGMOID 3

// DL4J clips probabilities the same way before taking their logarithm.
#define SOFTMAX_CLIP 1e-10f
#define SIGMOID_CLIP 1e-5f

#define GRID_STRIDE(i, n) \
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < (n); \
         i += (long long) blockDim.x * gridDim.x)

extern "C" __global__ void add_bias(float* matrix, const float* bias, int rows, long long count) {
    GRID_STRIDE(i, count) {
        matrix[i] += bias[i % rows];
    }
}

__device__ float sigmoid(float z) {
    return 1.0f / (1.0f + expf(-z));
}

extern "C" __global__ void activate(int kind, float* values, long long count) {
    GRID_STRIDE(i, count) {
        float z = values[i];
        switch (kind) {
            case RELU: values[i] = z > 0.0f ? z : 0.0f; break;
            case TANH: values[i] = tanhf(z); break;
            case SIGMOID: values[i] = sigmoid(z); break;
            default: break;
        }
    }
}

extern "C" __global__ void multiply_by_derivative(int kind, const float* activations, float* gradient,
                                                  long long count) {
    GRID_STRIDE(i, count) {
        float a = activations[i];
        float derivative = 1.0f;
        switch (kind) {
            case RELU: derivative = a > 0.0f ? 1.0f : 0.0f; break;
            case TANH: derivative = 1.0f - a * a; break;
            case SIGMOID: derivative = a * (1.0f - a); break;
            default: break;
        }
        gradient[i] *= derivative;
    }
}

// One thread per example: softmax over its column of logits, cross-entropy against its label.
// delta = (p - y) * scale; stats[e] = loss, stats[batch + e] = 1 when the argmax is the label.
extern "C" __global__ void softmax_cross_entropy(const float* logits, const float* labels, int classes, int batch,
                                                 float scale, float* delta, float* stats) {
    GRID_STRIDE(e, batch) {
        const float* z = logits + e * (long long) classes;
        float* d = delta + e * (long long) classes;
        int label = (int) labels[e];
        float max = z[0];
        int argMax = 0;
        for (int c = 1; c < classes; c++) {
            if (z[c] > max) {
                max = z[c];
                argMax = c;
            }
        }
        float sum = 0.0f;
        for (int c = 0; c < classes; c++) {
            sum += expf(z[c] - max);
        }
        for (int c = 0; c < classes; c++) {
            float p = expf(z[c] - max) / sum;
            d[c] = (p - (c == label ? 1.0f : 0.0f)) * scale;
        }
        float pLabel = expf(z[label] - max) / sum;
        stats[e] = -logf(fmaxf(pLabel, SOFTMAX_CLIP));
        stats[batch + e] = argMax == label ? 1.0f : 0.0f;
    }
}

// One thread per example: a sigmoid output with binary cross-entropy against a 0/1 label.
extern "C" __global__ void sigmoid_cross_entropy(const float* logits, const float* labels, int batch, float scale,
                                                 float* delta, float* stats) {
    GRID_STRIDE(e, batch) {
        float y = labels[e];
        float p = sigmoid(logits[e]);
        delta[e] = (p - y) * scale;
        float clipped = fminf(fmaxf(p, SIGMOID_CLIP), 1.0f - SIGMOID_CLIP);
        stats[e] = -(y * logf(clipped) + (1.0f - y) * logf(1.0f - clipped));
        stats[batch + e] = (p >= 0.5f ? 1.0f : 0.0f) == y ? 1.0f : 0.0f;
    }
}
