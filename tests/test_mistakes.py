"""The registry of verifier mistakes: each registered mistake found and named, in both languages, and a new one
added with one record and its template lines.

Every wrong formula here is written by hand to make one mistake on a seed network (the layer left out, the term
kept, the factor added are chosen in the formula), so the record and the words expected follow from the formula,
not from the code under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Self

import jinja2
import pytest

from derive import Layer, Network, Notation, Regularization, load
from derive.cli import main
from derive.model.notation import PRESETS
from derive.templating import ENV, TEMPLATES
from derive.verify import mistakes, verify
from derive.verify.batch import BatchSum, PenaltyScale, PenaltyWithout
from derive.verify.batch_names import AlgorithmName, PenaltyForm, SampleTerm
from derive.verify.batch_reading import BatchMean, BatchReading
from derive.verify.bias_unit import BiasConvention, BiasUnit
from derive.verify.definition import Definition
from derive.verify.definition_mistakes import (
    ActivationApplied,
    ActivationMissing,
    BiasMissing,
    BiasUnitMissing,
    UnsummedIndex,
    WrongActivation,
    WrongInputLayer,
)
from derive.verify.factor import AnyNeuron, Factor
from derive.verify.findings import (
    Accumulated,
    BareLayer,
    ChainLink,
    CodeName,
    Convention,
    ElementwiseDivision,
    ElementwiseProduct,
    EveryLayer,
    ExampleLabel,
    Finding,
    IndexClash,
    IndexLayer,
    LetterMeaning,
    Omega,
    RoleLayer,
    RowVector,
    RunningGradient,
    Shape,
    SubscriptLayer,
    Undefined,
    UnlayeredHidden,
    UnlayeredOutput,
    UnlayeredRole,
    WeightCase,
)
from derive.verify.identity import IdentityFunction
from derive.verify.loss import LossDefinition, LossScale, LossSign, OtherLoss
from derive.verify.mistakes import (
    ExtraDerivative,
    FactorTwo,
    MissingDerivative,
    MissingSum,
    MissingTranspose,
    Mistake,
    OtherGradient,
    Penalty,
    Proportional,
    SharedError,
    Sign,
    Site,
    Transposed,
    WrongLayerDerivative,
)

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("en", "zh")
WHY = {"en": "  why: ", "zh": "  原因："}
READING = {"en": "  reading: ", "zh": "  读法："}


def seed(name: str) -> Network:
    """An example spec; ``<seed>+l2`` with the plain L2 penalty λ Σ W² added ([regularization] form = "plain");
    ``deep``: three sigmoid layers, 2-3-3-2, for formulas in a general layer l."""
    if name == "deep":
        return Network(2, (Layer(3, "sigmoid"), Layer(3, "sigmoid"), Layer(2, "sigmoid")), "squared_error")
    if name in ("bishop", "wikipedia", "goodfellow"):  # a textbook's letters: 2-3-2 sigmoid under its preset
        notation = Notation(**dict(PRESETS[name].options))
        return Network(2, (Layer(3, "sigmoid"), Layer(2, "sigmoid")), "squared_error", notation=notation)
    if name == "goodfellow+half":  # Goodfellow's weight decay, λ Ω(θ) = (λ/2) Σ w²
        return replace(seed("goodfellow"), regularization=Regularization(0.1, "half"))
    if name == "cs231n":  # cs231n's two-layer classifier: ReLU, softmax, cross-entropy on class labels
        notation = Notation(**dict(PRESETS[name].options))
        layers = (Layer(3, "relu"), Layer(2, "softmax"))
        return Network(2, layers, "cross_entropy", notation=notation, targets="labels")
    base, _, penalty = name.partition("+")
    net = load(ROOT / "examples" / f"{base}.toml")
    return replace(net, regularization=Regularization(0.1, "plain")) if penalty else net


@dataclass(frozen=True)
class Case:
    """A hand-made wrong formula, the record it must be diagnosed with, and the words for it."""

    seed: str
    param: str | None
    formula: str
    finding: Finding
    en: str
    zh: str


SIGMA_OUT = r"(a^{(2)}_1 - y_1) a^{(2)}_1 (1 - a^{(2)}_1)"  # seed001's δ^{(2)}_1: squared error, sigmoid
SUM_1 = r"\sum_k W^{(2)}_{k1}\delta^{(2)}_k"  # Σ_k W_{k1} δ_k, without σ'(z^{(1)}_1)

# one or more per registered mistake; test_every_registered_mistake_has_a_case keeps it so
MISTAKE_CASES = [
    Case(
        "seed001",
        "delta2[1]",
        "-" + SIGMA_OUT,
        Sign(),
        "the sign is wrong: the formula is the negative of the derivative (check y − a against a − y)",
        "符号反了：公式正好是导数的相反数（检查 y − a 与 a − y）",
    ),
    Case(
        "seed001",
        "delta2[1]",
        "2 " + SIGMA_OUT,
        FactorTwo("double"),
        "the formula is twice the derivative: the ½ in the cost cancels the 2 from differentiating the square",
        "公式是导数的两倍：代价函数里的 ½ 会和平方求导得到的 2 相消",
    ),
    Case(
        "seed001",
        "delta2[1]",
        r"\frac{1}{2} " + SIGMA_OUT,
        FactorTwo("half"),
        "the formula is half the derivative: a cost without the ½ keeps the 2 from differentiating the square",
        "公式是导数的一半：没有 ½ 的代价函数求导后保留因子 2",
    ),
    Case(  # λW where R = λ Σ W² gives 2λW (seed003 writes the cost J: λ says the gradient is of C + R)
        "seed003+l2",
        "W2[1,1]",
        r"\delta^{(2)}_1 a^{(1)}_1 + \lambda W^{(2)}_{11}",
        Penalty("half", "2λW", "plain"),
        "the L2 penalty's term is half what this form gives: ∂R/∂θ is 2λW"
        " (R = λ Σ θ² has no ½, so its derivative keeps the 2)",
        "L2 惩罚项这一项是这种形式应有值的一半：∂R/∂θ 应为 2λW（R = λ Σ θ² 不带 ½，求导后保留系数 2）",
    ),
    Case(
        "seed004",
        "delta2",
        r"(y - \hat y)",
        MissingDerivative(2),
        "the derivative of layer 2's activation is missing (a factor such as σ'(z) = ŷ(1 − ŷ))",
        "缺少第 2 层激活函数的导数（例如 σ'(z) = ŷ(1 − ŷ) 这一因子）",
    ),
    Case(  # one layer above the element: δ^{(1)} built on a δ^{(2)} that lacks its σ'
        "seed001",
        "delta1[1]",
        r"\sum_k W^{(1)}_{k1} (a^{(2)}_k - y_k) \sigma'(z^{(1)}_1)",  # seed001: W^{(1)} leaves layer 1
        MissingDerivative(2),
        "the derivative of layer 2's activation is missing (a factor such as σ'(z) = a(1 − a))",
        "缺少第 2 层激活函数的导数（例如 σ'(z) = a(1 − a) 这一因子）",
    ),
    Case(
        "seed002",
        None,
        r"\delta^{(2)}_1 = (y_1 - t_1) y_1 (1 - y_1)",
        ExtraDerivative(2),
        "there is an extra activation derivative: with this loss the output's σ' cancels, leaving y − t",
        "多乘了一个激活函数的导数：在这个损失下输出层的 σ' 被约掉，只剩 y − t",
    ),
    Case(
        "seed001",
        "delta1[2]",
        r"\sum_k W^{(1)}_{k2}\delta^{(2)}_k \sigma'(z^{(2)}_1)",
        WrongLayerDerivative(2, 1),
        "the activation derivative is taken in the wrong place: layer 2, neuron 1 instead of the neuron's own layer",
        "激活函数的导数取错了位置：用了第 2 层第 1 个神经元，而不是该神经元自己所在的层",
    ),
    Case(  # the same index as the element: said without the neuron
        "seed001",
        "delta1[1]",
        SUM_1.replace("W^{(2)}", "W^{(1)}") + r" \sigma'(z^{(2)}_1)",  # seed001 numbers W by the layer it leaves
        WrongLayerDerivative(2, None),
        "the activation derivative is taken in the wrong place: layer 2 instead of the neuron's own layer",
        "激活函数的导数取错了位置：用了第 2 层，而不是该神经元自己所在的层",
    ),
    Case(
        "seed001",
        None,
        r"\delta^{(1)}_1 = \theta^{(1)}_{21}\delta^{(2)}_2 \sigma'(z^{(1)}_1)",
        MissingSum(k=2),
        "only one term of the sum over the next layer's neurons is there (k = 2): δ needs all of them",
        "对下一层神经元的求和只剩一项（k = 2）：δ 需要全部各项",
    ),
    Case(
        "seed001",
        None,
        r"\delta^{(1)}_1 = \theta^{(1)}_{11}\delta^{(2)}_1 \sigma'(z^{(1)}_1)",
        MissingSum(),
        "only one term of the sum over the next layer's neurons is there: δ needs all of them",
        "对下一层神经元的求和只剩一项：δ 需要全部各项",
    ),
    Case(  # found by the reader: k is bound by nothing
        "seed001",
        None,
        r"\delta^{(1)}_1 = \theta^{(1)}_{k1}\delta^{(2)}_k \sigma'(z^{(1)}_1)",
        MissingSum(letter="k"),
        "the index k is not summed: δ needs the sum over every neuron of the next layer",
        "下标 k 没有求和：δ 需要对下一层所有神经元求和",
    ),
    Case(
        "seed001",
        "W1[1,2]",
        r"\delta^{(1)}_2 x_1",
        Transposed(),
        "the weight's indices are transposed: under this notation θ_{ij} joins neuron j of the layer below to neuron i",
        "权重的下标写反了：在这个记号里 θ_{ij} 由下一层的神经元 j 连到神经元 i",
    ),
    Case(  # δ^{(2)} a^{(1)}, 2×1 by 4×1, where δ^{(2)} (a^{(1)})ᵀ belongs (column vectors)
        "seed003",
        None,
        r"\frac{\partial J}{\partial W^{(2)}} = \delta^{(2)} a^{(1)}",
        MissingTranspose("a^{(1)}"),
        "a transpose is missing: the formula is right with (a^{(1)})ᵀ in place of a^{(1)}"
        " (vectors are columns here: n × 1)",
        "缺少一个转置：把 a^{(1)} 换成 (a^{(1)})ᵀ，公式就是对的（这里向量是列向量，n × 1）",
    ),
    Case(  # cs231n's rows: x δ^{(1)}, 1×2 by 1×3, where xᵀ δ^{(1)} belongs (h dscores for hᵀ dscores)
        "cs231n",
        None,
        r"\frac{\partial L}{\partial W^{(1)}} = x \delta^{(1)}",
        MissingTranspose("x"),
        "a transpose is missing: the formula is right with xᵀ in place of x (vectors are rows here: 1 × n, as cs231n"
        " writes them)",
        "缺少一个转置：把 x 换成 xᵀ，公式就是对的（这里向量是行向量，1 × n，cs231n 的写法）",
    ),
    Case(  # ∂C/∂W1[1,1] for W1[1,2]: the input index is wrong
        "seed001",
        "W1[1,2]",
        r"\delta^{(1)}_1 x_1",
        OtherGradient("W1[1,1]", "input"),
        "this is the gradient of W1[1,1]: the input index is wrong",
        "这是 W1[1,1] 的梯度：输入端的指标错了",
    ),
    Case(  # δ^{(l)} without σ'(z^{(l)}) for every layer l of a 2-3-3-2 network: said in the general layer
        "deep",
        None,
        r"\delta^{(l)} = (W^{(l+1)})^T \delta^{(l+1)}",
        MissingDerivative(0, "l"),
        "the derivative of layer l's activation is missing (a factor such as σ'(z) = a(1 − a))",
        "缺少第 l 层激活函数的导数（例如 σ'(z) = a(1 − a) 这一因子）",
    ),
    Case(  # σ'(z^{(l+1)}) where σ'(z^{(l)}) belongs (l = 1 reads; for l = 2 the shapes clash)
        "deep",
        None,
        r"\delta^{(l)} = (W^{(l+1)})^T \delta^{(l+1)} \odot \sigma'(z^{(l+1)})",
        WrongLayerDerivative(1, None, "l"),
        "the derivative of layer l+1's activation is taken where layer l's belongs",
        "用了第 l+1 层激活函数的导数，应为第 l 层的",
    ),
    Case(
        "seed004",
        "W1[1,2]",
        r"-\delta_2 x_1",  # article 004 writes w_{ij} from neuron i to neuron j
        Transposed(),
        "the weight's indices are transposed: under this notation w_{ij} joins neuron i of the layer below to neuron j",
        "权重的下标写反了：在这个记号里 w_{ij} 由下一层的神经元 i 连到神经元 j",
    ),
    Case(
        "seed001",
        "W1[1,2]",
        r"3 \delta^{(1)}_1 x_2",
        Proportional(3.0),
        "the formula is proportional to the derivative but 3.0 times too large",
        "公式与导数成比例，但大了 3.0 倍",
    ),
    Case(
        "seed000",
        None,
        r"\delta_c = \left(\frac{w_{ec}}{w_{ec}+w_{ed}}\delta_e + \frac{w_{fc}}{w_{fc}+w_{fd}}\delta_f\right)"
        r" a_c(1-a_c)",
        SharedError(),
        "the error is shared out in proportion to the weights (w11/(w11 + w21)); backpropagation uses the weights"
        " themselves: drop the denominators",
        "误差按权重比例分配（w11/(w11 + w21)）；反向传播直接使用权重本身：去掉分母",
    ),
]

MISTAKE_CASES.append(
    Case(  # Bishop's letters swapped: δ_j z_k for ∂E/∂w_{kj}, the error of the hidden unit the weight leaves
        "bishop",
        None,
        r"\frac{\partial E}{\partial w_{kj}} = \delta_j z_k",
        Transposed(roles=True),
        "the weight's indices are transposed: under this notation w_{ij} joins neuron j of the layer below to neuron i,"
        " and the gradient is the error of the unit it enters times the activation of the unit it leaves: the formula"
        " takes the error of the unit it leaves and the activation of the unit it enters",
        "权重的下标写反了：在这个记号里 w_{ij} 由下一层的神经元 j 连到神经元 i；"
        "梯度是权重所进入单元的误差乘以它所离开单元的激活值，公式却用了它离开的单元的误差和它进入的单元的激活值",
    )
)

SHAPE_AT = r"…lta^{(1)} = W^{(2)} »\«delta^{(2)} \odot \o…"
OTHER_CASES = [
    Case(  # i runs over the 4 neurons of layer 1, x has 3 entries: the elements with i ≤ 3 are compared
        "seed003",
        None,
        r"\frac{\partial J}{\partial W^{(1)}_{ij}} = \delta^{(1)}_i x_i",
        IndexClash("i", "x_i", 3, 4),
        "the indices do not match the parameter's: i runs from 1 to 4, but x_i has only 3;"
        " the formula is compared where it can be read",
        "指标与参数的指标不一致：i 从 1 取到 4，但 x_i 只有 3 个；公式只在能读出的元素上比较",
    ),
    Case(
        "seed003",
        None,
        r"\delta^{(2)}_1 = a^{(2)}_1 - y_1 = y_1 - a^{(2)}_1",
        ChainLink(2, 2, "a^{(2)}_1 - y_1", "y_1 - a^{(2)}_1"),
        "in the chain of 2 equalities, link 2 is wrong: a^{(2)}_1 - y_1 = y_1 - a^{(2)}_1"
        " (the links before it are right)",
        "在 2 个等式组成的连等式中，第 2 个等式错误：a^{(2)}_1 - y_1 = y_1 - a^{(2)}_1（它之前的等式都正确）",
    ),
    Case(
        "seed001",
        "delta2[1]",
        r"\log(y_1 - 5)",
        Undefined("nan"),
        "the formula has no finite value at a sample point (it gives nan): it divides by something that is zero"
        " there, takes the logarithm or a root of a number that is not positive, or overflows",
        "公式在某个采样点没有有限值（给出 nan）：它在该点除以零、对非正数取对数或开方，或者数值溢出",
    ),
    Case(
        "seed003",
        None,
        r"\delta^{(1)} = W^{(2)} \delta^{(2)} \odot \operatorname{ReLU}'(z^{(1)})",
        Shape(r"cannot multiply 2×4 by 2×1 at character 24: " + SHAPE_AT),  # W^{(2)} is 2×4, δ^{(2)} 2×1
        r"the shapes do not fit: cannot multiply 2×4 by 2×1 at character 24: " + SHAPE_AT,
        r"形状对不上：cannot multiply 2×4 by 2×1 at character 24: " + SHAPE_AT,
    ),
    Case(
        "seed004",
        "delta2",
        r"(\hat y - y)\hat y(1-\hat y)",
        Convention("delta", "gradient"),
        "it would be right if δ meant ∂E/∂z; this network's notation has δ = −∂E/∂z",
        "如果 δ 表示 ∂E/∂z，公式就是对的；这个网络的记号里 δ = −∂E/∂z",
    ),
    Case(
        "seed001",
        "W^{(l)}_{ij}",
        r"\delta^{(l+1)}_j a^{(l)}_i",
        Convention("index_order", "from_to"),
        "it would be right with the weights' indices in from-to order (θ_{ij} from neuron i to neuron j)",
        "如果权重下标按“从-到”顺序（θ_{ij} 由神经元 i 到神经元 j），公式就是对的",
    ),
    Case(
        "seed001",
        None,
        r"\frac{\partial C}{\partial \theta^{l}} = \delta^{l} (a^{l-1})^T",
        Convention("weight_shift", 0),
        "it would be right if θ^{(l)} meant the weights into layer l (derive's default); this notation numbers a"
        " weight by the layer it leaves: θ^{(l)} joins layer l to layer l + 1",
        "如果 θ^{(l)} 表示进入第 l 层的权重（derive 的默认编号），公式就是对的；"
        "这个记号按权重离开的层编号：θ^{(l)} 连接第 l 层和第 l + 1 层",
    ),
    Case(
        "seed002",
        None,
        r"\frac{\partial C}{\partial \theta^{l}} = \delta^{l+1} (a^{l})^T",
        Convention("weight_shift", 1),
        "it would be right if θ^{(l)} meant the weights leaving layer l (as in article 001); this notation's θ^{(l)}"
        " are the weights into layer l",
        "如果 θ^{(l)} 表示离开第 l 层的权重（如文章 001），公式就是对的；这个记号的 θ^{(l)} 是进入第 l 层的权重",
    ),
    Case(  # the per-example costs summed where J is their mean (issue 16, point 4)
        "seed003",
        None,
        r"J = \sum_s C^{(s)}",
        BatchSum(False, "J"),
        "a sum where the mean belongs: J is the mean of the per-example costs, (1/m) Σ_s C^{(s)}, so the sum is m"
        " times too large",
        "该取平均的地方用了求和：J 是各样本代价的平均 (1/m) Σ_s C^{(s)}，求和大了 m 倍",
    ),
    Case(
        "seed001+l2",
        None,
        r"\frac{\partial C}{\partial W} = \frac{1}{m}\sum_i \frac{\partial L_i}{\partial W} + \lambda W",
        PenaltyScale("coefficient", "plain", "2λ"),
        "the penalty's term is not the spec's: the form plain gives 2λ θ",
        "惩罚项的梯度项与规格不符：形式 plain 给出 2λ θ",
    ),
    Case(
        "seed003",
        None,
        r"J = \frac{1}{m}\sum_s C^{(s)} + \frac{\lambda}{2} \sum_l \lVert W^{(l)} \rVert^2",
        PenaltyWithout(False),
        "the formula has an L2 penalty (λ), but the spec declares no [regularization]: derive's objective is the mean"
        " cost alone",
        "公式含 L2 惩罚项（λ），但规格没有声明 [regularization]：derive 的目标函数只是平均代价",
    ),
]

OTHER_CASES += [
    Case(  # Nielsen's C_0 with λW where the plain form gives 2λW: right under the form half
        "seed001+l2",
        None,
        r"\frac{\partial C}{\partial W} = \frac{\partial C_0}{\partial W} + \lambda W",
        PenaltyForm("half", "plain"),
        "it would be right with the penalty's form half (R = (λ/2) Σ θ², ∂R/∂θ = λ θ); the spec declares plain",
        "若惩罚项取形式 half（R = (λ/2) Σ θ²，∂R/∂θ = λ θ）则正确；规格声明的是 plain",
    ),
    Case(  # a mini-batch update whose summed term is twice one sample's gradient
        "seed003",
        None,
        r"W^{(2)} \leftarrow W^{(2)} - \frac{\eta}{m} \sum_x 2 \delta^{x,(2)} (a^{x,(1)})^T",
        SampleTerm(r"2 \delta^{(2)} (a^{(1)})^T", "W2[1,1]"),
        r"the term summed over the samples, 2 \delta^{(2)} (a^{(1)})^T, is not one sample's gradient: for W2[1,1] at a"
        " seeded sample it gives -0.0325847, the gradient is -0.0162924",  # twice the gradient, as the term says
        r"对样本求和的那一项 2 \delta^{(2)} (a^{(1)})^T 不是单个样本的梯度：在一个带种子的样本上，W2[1,1] 处它给出"
        " -0.0325847，梯度为 -0.0162924",
    ),
]

NOTE_CASES = [
    Case(  # Goodfellow's running gradient: the g on the right holds what the line before left in it
        "goodfellow+half",
        None,
        r"g \leftarrow \nabla_{a^{(k)}} J = g \odot f'(a^{(k)})",
        RunningGradient(r"\nabla_{h^{(k)}} J"),
        r"g on the right is read as \nabla_{h^{(k)}} J, the gradient the algorithm carries into this line"
        " (Goodfellow's running gradient)",
        r"右边的 g 读作 \nabla_{h^{(k)}} J，即算法带入这一行的梯度（Goodfellow 的滚动梯度 g）",
    ),
    Case(  # and the g it assigns holds the gradient the line states
        "goodfellow+half",
        None,
        r"g \leftarrow \nabla_{h^{(k-1)}} J = W^{(k)\top} g",
        RunningGradient(r"\nabla_{h^{(k-1)}} J", after=True),
        r"g ← …: g holds \nabla_{h^{(k-1)}} J after this line",
        r"g ← …：这一行之后 g 存的是 \nabla_{h^{(k-1)}} J",
    ),
    Case(  # Goodfellow's Ω(θ) with the spec's penalty
        "goodfellow+half",
        None,
        r"\nabla_{W^{(k)}} J = g \, h^{(k-1)\top} + \lambda \nabla_{W^{(k)}} \Omega(\theta)",
        Omega("half", "1/2", False),
        "Ω(θ) read as the spec's penalty over λ, 1/2 Σ θ² over the weights (not the biases: the spec's biases ="
        ' false), form "half": Goodfellow\'s weight decay ½‖w‖²',
        'Ω(θ) 读作 spec 的惩罚项除以 λ，即对权重（不含偏置：spec 的 biases = false）的 1/2 Σ θ²，形式 "half"：即'
        " Goodfellow 的权重衰减 ½‖w‖²",
    ),
    Case(  # cs231n's code names for gradients (gradient_names = "code")
        "cs231n",
        None,
        r"dW2_{ij} = h_i dscores_j",
        CodeName("dscores_j", "scores", 2, "f"),
        "dscores_j read as ∂L/∂f, the gradient by the scores (the output layer's pre-activation) of layer 2,"
        " as code names it",
        "dscores_j 按代码中的写法理解为 ∂L/∂f，即代价对第 2 层得分（输出层激活前的值）的梯度",
    ),
    Case(  # cs231n's y_i (example_index = "i"): the class label of the one example verified
        "cs231n",
        None,
        r"\frac{\partial L_i}{\partial f_k} = p_k - \mathbb{1}(y_i = k)",
        ExampleLabel("y_i", "i"),
        "y_i read as the class label of the example i, the one sample verified: 𝟙(y_i = k) is its one-hot target",
        "y_i 按样本 i 的类别标签理解（所验证的单个样本）：𝟙(y_i = k) 即其独热目标",
    ),
    Case(  # Wikipedia's E = ½(t − y)²: with the target written t, y is the network's output, and the verdict says so
        "wikipedia",
        None,
        r"\frac{\partial E}{\partial y_1} = y_1 - t_1",
        LetterMeaning("y", "network_output"),
        "y read as the network's output: this notation writes the target t, so y is not the target (E = ½(t − y)², as"
        " Wikipedia writes it)",
        "y 理解为网络的输出：这个记号把目标写作 t，所以 y 不是目标（如 Wikipedia 的 E = ½(t − y)²）",
    ),
    Case(  # cs231n's W_2 (s = W_2 max(0, W_1 x)): a weight matrix's one-number subscript is its layer
        "cs231n",
        None,
        r"dhidden = dscores (W_2)^T",
        SubscriptLayer("W_2", 2),
        "the subscript of W_2 is read as its layer: the weight matrix of layer 2",
        "W_2 的下标按层号理解：第 2 层的权重矩阵",
    ),
    Case(  # an identity about an activation the network does not use: read from the registry
        "seed001",
        None,
        r"\tanh'(z) = 1 + \tanh^2(z)",
        IdentityFunction("tanh", (), 6.0),
        "the function is tanh, read from derive's registry of activations (this network does not use it)",
        "函数为 tanh，取自 derive 的激活函数登记表（本网络未使用它）",
    ),
    Case(
        "bishop",
        None,
        r"\delta^{(1)}_j = h'(a^{(1)}_j) \sum_k w^{(2)}_{kj} \delta^{(2)}_k",
        LetterMeaning("a", "pre_activation"),
        "a read as the pre-activation (the weighted input), as the notation declares",
        "a 按记号的声明理解为激活前的值（加权输入）",
    ),
    Case(  # Bishop's layer by index letter (layer_marker = "index"): j a hidden unit
        "bishop",
        None,
        r"\delta_j = h'(a_j) \sum_k w_{kj} \delta_k",
        IndexLayer(r"\delta_j", "delta", "j", 1),
        r"\delta_j read as a hidden unit's error, by its index letter j (layer 1)",
        r"\delta_j 按下标字母 j 理解为隐藏单元的误差（第 1 层）",
    ),
    Case(
        "wikipedia",
        None,
        r"\frac{\partial E}{\partial w^{(2)}_{ij}} = o_i \delta_j",
        UnlayeredRole("o_i", 1),
        "o_i has no layer: read in layer 1, the layer its index has on the weight of the left side",
        "o_i 没有写层号：按左边权重上同一下标所在的第 1 层理解",
    ),
    Case(
        "seed001",
        None,
        r"\Delta^{(l)} := \Delta^{(l)} + \delta^{(l+1)} (a^{(l)})^T",
        Accumulated(r"\Delta^{(l)}"),
        r"\Delta^{(l)} sums a gradient over the samples: the term added is read as one sample's ∂C/∂θ, for the"
        r" weights with \Delta^{(l)}'s layer",
        r"\Delta^{(l)} 对各个样本的梯度求和：加上的那一项按单个样本的 ∂C/∂θ 理解（权重的层号与 \Delta^{(l)} 相同）",
    ),
    Case(
        "seed001",
        None,
        r"\delta^{(1)} = \delta^{(2)} \frac{\partial z^{(2)}}{\partial z^{(1)}}",
        RowVector("z^{(2)}"),
        r"the vector before ∂z^{(2)}/∂… is read as a row: the chain rule's sum over the entries of z^{(2)}",
        r"∂z^{(2)}/∂… 前面的向量按行向量读：即链式法则对 z^{(2)} 各分量求和",
    ),
    Case(  # written without layers on a net with a hidden layer: t_j puts j in the output layer
        "wikipedia",
        None,
        r"\delta_j = (o_j - t_j) o_j (1 - o_j)",
        RoleLayer("j", "output", "t_j", "", 2),
        "read without layers: j a neuron of the output layer 2, as t_j says",
        "未写层号：j 是输出层 2 的神经元（由 t_j 可知）",
    ),
    Case(  # the weight w_{ij} from i to j puts j one layer after i, and the formula is read for every layer
        "wikipedia",
        None,
        r"\frac{\partial E}{\partial w_{ij}} = o_i \delta_j",
        EveryLayer(("W1", "W2"), "l"),
        "read without layers, for every layer it can be about (l): checked W1 and W2",
        "未写层号，按它能指的每一层理解（第 l 层）：检查了 W1 和 W2",
    ),
    Case(
        "wikipedia",
        None,
        r"\frac{\partial E}{\partial w_{ij}} = o_i \delta_j",
        RoleLayer("j", "after", "w_{ij}", "i"),
        "read without layers: j a neuron of the layer after i's, as w_{ij} says",
        "未写层号：j 是 i 所在层的下一层的神经元（由 w_{ij} 可知）",
    ),
    Case(
        "seed004",
        "W1[1,2]",
        r"-\delta_1 x_2",
        UnlayeredHidden(r"\delta_1", 1),
        r"\delta_1 has no layer: read as the hidden layer 1",
        r"\delta_1 没有写层号：按隐藏层 1 理解",
    ),
    Case(
        "seed004",
        None,
        r"\delta^o = (y - \hat{y}) f'(h)",
        UnlayeredOutput("h", 2),
        "h has no layer or index: read as the output layer 2",
        "h 没有写层号和下标：按输出层 2 理解",
    ),
    Case(
        "seed004",
        None,
        r"\Delta W_{jk} = \eta \delta^o_k a^{(1)}_j",
        WeightCase("W", 2),
        "W without a layer: read as layer 2 (lower-case w for the first layer, upper-case W for the second)",
        "W 没有写层号：按第 2 层理解（小写 w 为第一层，大写 W 为第二层）",
    ),
    Case(
        "seed001",
        None,
        r"\delta^2_1 = " + SIGMA_OUT,
        BareLayer(r"\delta^2_1"),
        r"the superscript of \delta^2_1 is read as its layer",
        r"\delta^2_1 的上标按层号理解",
    ),
    Case(
        "seed001",
        None,
        r"\delta^{(2)} = (a^{(2)} - y) a^{(2)} (1 - a^{(2)})",
        ElementwiseProduct(),
        "a product of two column vectors is read element by element (⊙)",
        "两个列向量相乘按逐元素乘积（⊙）理解",
    ),
    Case(
        "seed001",
        None,
        r"\delta^{(2)} = \frac{(a^{(2)} - y) \odot a^{(2)} \odot (1 - a^{(2)}) \odot a^{(2)}}{a^{(2)}}",
        ElementwiseDivision(),
        "a quotient of two vectors is read element by element",
        "两个向量相除按逐元素理解",
    ),
]


NOTE_CASES += [
    Case(  # Ng's D and Δ read as the gradient of J and the per-sample gradients summed
        "seed003",
        None,
        r"D^{(2)} = \frac{1}{m}\Delta^{(2)}",
        AlgorithmName("D^{(2)}", "D", True),
        "D^{(2)} read as Ng's D, the gradient of J by the weights of its layer: (1/m) Δ, plus the spec's L2 penalty's"
        " gradient where the algorithm's D stands on the right; derive keeps the biases apart, so W here has no bias"
        " column (Ng's j = 0): this is his j ≠ 0 case, and the biases' gradient is ∂J/∂b",
        "D^{(2)} 按 Ng 的 D 理解：J 对该层权重的梯度，即 (1/m) Δ；算法的 D 出现在右边时再加上规格中 L2 惩罚项的梯度；"
        "derive 把偏置分开处理，所以这里的 W 没有偏置列（Ng 的 j = 0）：这是他 j ≠ 0 的情形，偏置的梯度是 ∂J/∂b",
    ),
]


# Definitions of the forward pass and the per-example loss (derive/verify/definition*.py, factor.py, loss.py)
BIAS_WORDS = (
    "the bias is missing: this network's layers have biases, so z = W a + b (a source that keeps the bias inside the"
    " weights, as Bishop's w_{j0} with x_0 = 1 or Ng's bias unit a_0 = 1, is a network declared with bias = false)",
    "缺少偏置：这个网络的各层有偏置，所以 z = W a + b（把偏置放在权重里的写法，如 Bishop 的 w_{j0} 配 x_0 = 1、"
    "Ng 的偏置单元 a_0 = 1，对应在规格中声明 bias = false 的网络）",
)
OTHER_CASES += [
    Case("deep", None, r"z^{(2)} = W^{(2)} a^{(1)}", BiasMissing(), *BIAS_WORDS),
    Case(
        "deep",
        None,
        r"a^{(2)} = W^{(2)} a^{(1)} + b^{(2)}",
        ActivationMissing(r"\sigma"),
        r"the activation is missing: a = \sigma(z), and the formula gives the weighted input z itself",
        r"缺少激活函数：a = \sigma(z)，而公式给出的是加权输入 z 本身",
    ),
    Case(
        "deep",
        None,
        r"z^{(2)} = \sigma(W^{(2)} a^{(1)} + b^{(2)})",
        ActivationApplied(r"\sigma"),
        r"the activation is applied too early: the pre-activation z is the weighted input, before \sigma",
        r"激活函数用早了：激活前的值 z 是加权输入，还没有经过 \sigma",
    ),
    Case(
        "deep",
        None,
        r"a^{(2)} = \tanh(z^{(2)})",
        WrongActivation(r"\tanh", r"\sigma"),
        r"the activation function is wrong: the formula applies \tanh, but this layer of the network uses \sigma",
        r"激活函数用错了：公式用的是 \tanh，而网络的这一层用的是 \sigma",
    ),
    Case(  # layers 1 and 2 both have 3 neurons: a^{(2)} fits where a^{(1)} belongs
        "deep",
        None,
        r"z^{(2)} = W^{(2)} a^{(2)} + b^{(2)}",
        WrongInputLayer(2, 1),
        "the layer is wrong: the weighted input takes the activations of layer 2, where those of the layer below, 1,"
        " belong",
        "层号错了：加权输入用了第 2 层的激活值，应为下一层（第 1 层）的",
    ),
    Case(
        "deep",
        None,
        r"z^{(2)}_j = W^{(2)}_{jk} a^{(1)}_k + b^{(2)}_j",
        UnsummedIndex("k"),
        "the index k is not summed: the weighted input sums over every neuron of the layer below",
        "下标 k 没有求和：加权输入要对下一层的每个神经元求和",
    ),
    Case(
        "deep",
        None,
        r"C = \sum_k (a^{(3)}_k - y_k)^2",
        LossScale("double", "squared_error"),
        "the formula is twice the spec's loss, squared_error",
        "公式是规格中的损失 squared_error 的两倍",
    ),
    Case(
        "seed003",
        None,
        r"J = \sum_k y_k \log a^{(2)}_k",
        LossSign("cross_entropy"),
        "the sign is wrong: the formula is the negative of the spec's loss, cross_entropy (a cross-entropy has a minus"
        " before its sum of logarithms)",
        "符号反了：公式是规格中的损失 cross_entropy 的相反数（交叉熵在对数之和前有一个负号）",
    ),
    Case(
        "deep",
        None,
        r"C = -\sum_k y_k \log a^{(3)}_k",
        OtherLoss("cross_entropy", "squared_error"),
        "this is another loss, cross_entropy; the spec declares squared_error",
        "这是另一种损失 cross_entropy；规格声明的是 squared_error",
    ),
]
NOTE_CASES += [
    Case(
        "deep",
        None,
        r"a^{(1)} = \sigma(z^{(1)})",
        Definition(3, "exact"),
        "read as a definition of the forward pass, not a gradient: each neuron's z or a the left side names is compared"
        " with derive's forward equations",
        "按前向传播的定义理解，而不是梯度：左边所指每个神经元的 z 或 a 都与 derive 的前向方程比较",
    ),
    Case(
        "deep",
        None,
        r"\frac{\partial z^{(2)}_1}{\partial a^{(1)}_2} = W^{(2)}_{12}",
        Factor(1),
        "read as a chain-rule factor of the forward pass, not a gradient of the cost: both sides are compared at seeded"
        " points where every z and a comes from the forward pass",
        "按前向传播的链式法则因子理解，而不是代价的梯度：两边在带种子的随机点上比较，每个 z 和 a 都取自前向传播",
    ),
    Case(
        "deep",
        None,
        r"\frac{\partial a_j}{\partial z_j} = a_j (1 - a_j)",
        AnyNeuron("j", (1, 2, 3)),
        "j has no layer: the statement is checked for a neuron j of every layer where it exists (layers 1, 2, 3)",
        "j 没有写层号：对它存在的每一层（第 1、2、3 层）的神经元 j 都检查了该式",
    ),
    Case(
        "deep",
        None,
        r"C = \frac{1}{2}\sum_k (a^{(3)}_k - y_k)^2",
        LossDefinition("squared_error", "exact"),
        "read as the per-example loss written out, not a gradient: compared with the spec's loss, squared_error, at"
        " seeded outputs and targets",
        "按写出的单个样本的损失理解，而不是梯度：在带种子的输出和目标上与规格中的损失 squared_error 比较",
    ),
]
# Bishop's batch cost is the sum over the samples (notation batch = "sum"): a mean is wrong, and said as the reading
OTHER_CASES += [
    Case(
        "bishop",
        None,
        r"E = \frac{1}{N}\sum_n E_n",
        BatchMean(False, "E", "E"),
        "a mean where this notation's E is the sum (batch = sum, Bishop's E = Σ_n E_n): E is the sum of the per-example"
        " costs, Σ_s E^{(s)}, so the mean is m times too small",
        "这个记号里 E 是求和（batch = sum，Bishop 的 E = Σ_n E_n），公式却取了平均："
        "E 是各样本代价之和 Σ_s E^{(s)}，平均小了 m 倍",
    ),
    Case(
        "seed003",
        None,
        r"J = \sum_s C^{(s)}",
        Convention("batch", "sum"),
        "it would be right with batch = sum (Bishop's convention: the batch cost is the sum over the samples, E = Σ_n"
        " E_n); this network's notation reads it as the mean, derive's objective",
        "如果 batch = sum（Bishop 的约定：批量代价是对各样本的求和，E = Σ_n E_n），公式就是对的；"
        "这个网络的记号把它读作平均，即 derive 的目标函数",
    ),
]
NOTE_CASES += [
    Case(
        "bishop",
        None,
        r"\frac{\partial E}{\partial w_{ji}} = \frac{1}{N}\sum_n \frac{\partial E_n}{\partial w_{ji}}",
        BatchReading("E"),
        "E read as the sum over the samples (batch = sum, Bishop's E = Σ_n E_n); derive's objective is the mean,"
        " m times smaller",
        "E 读作对各样本的求和（batch = sum，Bishop 的 E = Σ_n E_n）；derive 的目标函数是平均，小 m 倍",
    ),
]


# The bias as the weight from a unit fixed at 1 (bias = "unit", set by Bishop's preset; derive/verify/bias_unit.py)
OTHER_CASES += [
    Case(
        "bishop",
        None,
        r"a_j = \sum_{i=1}^{2} w_{ji} x_i",
        BiasUnitMissing(),
        "the bias is missing: with bias = unit the sum over the layer below starts at 0, and its term 0, the weight"
        " w_{j0} from the unit x_0 = 1, is the bias; the formula leaves it out (a sum from 1)",
        "缺少偏置：在 bias = unit 下，对下一层的求和从 0 开始，其中第 0 项，"
        "即来自单元 x_0 = 1 的权重 w_{j0}，就是偏置；公式漏掉了这一项（求和从 1 开始）",
    ),
    Case(
        "deep",
        None,
        r"z^{(2)}_i = \sum_j W^{(2)}_{ij} a^{(1)}_j",
        BiasConvention("unit"),
        "it would be right with bias = unit, the bias as the weight from a unit fixed at 1 (W_{j0} = b_j with x_0 = 1,"
        " as Bishop, Ng and Wikipedia write it): a sum over the layer below without bounds starts at 0, and W a is"
        " [b | W] [1; a]; this network's notation writes the bias apart (bias = separate)",
        "如果 bias = unit，即把偏置写成来自恒为 1 的单元的权重"
        "（W_{j0} = b_j 配 x_0 = 1，Bishop、Ng 和 Wikipedia 都这样写），公式就是对的："
        "那时不写上下限的对下一层的求和从 0 开始，W a 表示 [b | W] [1; a]；"
        "这个网络的记号把偏置单独写出（bias = separate）",
    ),
]
NOTE_CASES += [
    Case(
        "bishop",
        None,
        r"a_j = \sum_i w_{ji} x_i",
        BiasUnit("sum", "i", "w_{ji}", "x_i"),
        "Σ_i runs from 0: at i = 0, x_i = 1 is the bias unit and w_{ji} the bias (bias = unit)",
        "Σ_i 从 0 开始：i = 0 时 x_i = 1 是偏置单元，w_{ji} 是偏置（bias = unit）",
    ),
    Case(
        "bishop",
        None,
        r"\frac{\partial E}{\partial w_{10}} = \delta_1 x_0",
        BiasUnit("weight", "w_{10}", layer=1),
        "w_{10} read as a bias of layer 1, the weight from the unit fixed at 1 (bias = unit)",
        "w_{10} 读作第 1 层的偏置，即来自恒为 1 的单元的权重（bias = unit）",
    ),
    Case(
        "bishop",
        None,
        r"\frac{\partial E}{\partial w_{10}} = \delta_1 x_0",
        BiasUnit("unit", "x_0"),
        "x_0 read as 1, the bias unit (bias = unit)",
        "x_0 读作 1，即偏置单元（bias = unit）",
    ),
    Case(
        "bishop",
        None,
        r"a^{(1)} = w^{(1)} x",
        BiasUnit("product", "w^{(1)} x", layer=1),
        "w^{(1)} x read with the bias unit: [b | w] [1; a] = w a + b, the biases of layer 1 included (bias = unit)",
        "w^{(1)} x 按偏置单元理解：[b | w] [1; a] = w a + b，包含第 1 层的偏置（bias = unit）",
    ),
]


def _ids(cases: list[Case]) -> list[str]:
    return [f"{c.finding!r}" for c in cases]


def lines(text: str, prefix: str) -> list[str]:
    """The words after ``prefix`` on each line that starts with it."""
    return [line.removeprefix(prefix) for line in text.splitlines() if line.startswith(prefix)]


# ------------------------------------------------------------ registered mistakes
def test_every_registered_mistake_has_a_case() -> None:
    assert {type(c.finding) for c in MISTAKE_CASES} == set(mistakes.MISTAKES)
    assert len({kind.code for kind in mistakes.MISTAKES}) == len(mistakes.MISTAKES)  # one macro each
    assert len({kind.rank for kind in mistakes.MISTAKES}) == len(mistakes.MISTAKES)  # a strict order


@pytest.mark.parametrize("case", MISTAKE_CASES, ids=_ids(MISTAKE_CASES))
def test_each_mistake_is_found_and_named_in_both_languages(case: Case) -> None:
    v = verify(seed(case.seed), case.param, case.formula)
    assert not v and case.finding in v.diagnoses, v.diagnoses
    assert case.finding.code in v.codes
    for lang in LANGS:
        assert getattr(case, lang) in lines(v.text(lang), WHY[lang]), v.text(lang)


@pytest.mark.parametrize("case", OTHER_CASES, ids=_ids(OTHER_CASES))
def test_other_diagnoses_are_records_named_in_both_languages(case: Case) -> None:
    v = verify(seed(case.seed), case.param, case.formula)
    assert not v and case.finding in v.diagnoses, v.diagnoses
    for lang in LANGS:
        assert getattr(case, lang) in lines(v.text(lang), WHY[lang]), v.text(lang)


@pytest.mark.parametrize("case", NOTE_CASES, ids=_ids(NOTE_CASES))
def test_readings_of_names_are_records_named_in_both_languages(case: Case) -> None:
    v = verify(seed(case.seed), case.param, case.formula)
    assert case.finding in v.notes, v.notes
    for lang in LANGS:
        assert getattr(case, lang) in lines(v.text(lang), READING[lang]), v.text(lang)


def test_every_finding_has_words_in_both_languages() -> None:
    """A macro named by its code in words_en.j2 and words_zh.j2, for every record a verdict can carry."""
    kinds, stack = set(), [Finding]
    while stack:
        kind = stack.pop()
        stack += kind.__subclasses__()
        if "code" in kind.__dict__:
            kinds.add(kind)
    assert {type(c.finding) for c in MISTAKE_CASES + OTHER_CASES + NOTE_CASES} == kinds
    for lang in LANGS:
        words = ENV.get_template(f"verdict/words_{lang}.j2").make_module({"n": {}})
        assert all(callable(getattr(words, kind.code, None)) for kind in kinds), lang


def test_a_table_names_the_mistakes_too(capsys, tmp_path) -> None:
    listing = tmp_path / "list.toml"
    listing.write_text(
        "[[formula]]\nparam = \"delta2[1]\"\nformula = '2 (a^{(2)}_1 - y_1) a^{(2)}_1 (1 - a^{(2)}_1)'\n",
        encoding="utf-8",
    )
    for lang, why in (("en", "why: "), ("zh", "原因：")):
        main(["verify", "--lang", lang, str(ROOT / "examples" / "seed001.toml"), "--file", str(listing)])
        said = [line.strip().removeprefix(why) for line in capsys.readouterr().out.splitlines() if why in line]
        assert said == [getattr(MISTAKE_CASES[1], lang)]


# ------------------------------------------------------------------ ranks
LINEAR = Network(
    2,
    (Layer(3, "relu"), Layer(3, "identity"), Layer(1, "sigmoid")),
    "squared_error",
    True,
    notation=Notation(),
)


def test_ranks_order_the_diagnoses(monkeypatch) -> None:
    """Behind an identity layer (g' = 1), δ^{(1)} without ReLU' gives the same numbers as ReLU' taken from layer 2.

    That is one reason, not two (issue 16: a linear layer gives no false extra reason); the rank decides which is
    named, whatever their codes: swapping the ranks swaps it.
    """
    v = verify(LINEAR, "delta1[1]", SUM_1)
    assert v.diagnoses == (MissingDerivative(1),)
    assert MissingDerivative.rank < WrongLayerDerivative.rank
    monkeypatch.setattr(MissingDerivative, "rank", WrongLayerDerivative.rank + 1)
    assert verify(LINEAR, "delta1[1]", SUM_1).diagnoses == (WrongLayerDerivative(2, None),)


def test_a_mistake_with_the_wrong_sign_is_named_after_the_sign() -> None:
    v = verify(seed("seed001"), "delta2[1]", "y_1 - a^{(2)}_1")  # σ' left out and the sign flipped
    assert v.diagnoses == (Sign(), MissingDerivative(2))


# ------------------------------------------------------- a mistake added in a test
WORDS = {
    "en": "{% macro scaled(d) %}the formula is {{ d.factor }} times the derivative (a test's mistake){% endmacro %}\n",
    "zh": "{% macro scaled(d) %}公式是导数的 {{ d.factor }} 倍（测试里的错误）{% endmacro %}\n",
}


@pytest.fixture
def scaled(monkeypatch) -> type[Mistake]:
    """One record registered (its rank between the sign and the factor 2) and its two macros; nothing else."""
    monkeypatch.setattr(mistakes, "MISTAKES", list(mistakes.MISTAKES))

    @dataclass(frozen=True)
    class Scaled(Mistake):
        code = "scaled"
        rank = 15
        factor: int

        @classmethod
        def gives(cls, at: Site, fitted: list[Self] | None) -> Iterator[tuple[Self, float]]:
            yield cls(3), 3 * at.correct

    words = {
        f"verdict/words_{lang}.j2": (TEMPLATES / f"verdict/words_{lang}.j2").read_text(encoding="utf-8") + WORDS[lang]
        for lang in LANGS
    }
    loader = jinja2.ChoiceLoader([jinja2.DictLoader(words), ENV.loader])
    monkeypatch.setattr(ENV, "loader", loader)
    return Scaled


def test_a_mistake_added_in_a_test_appears_in_the_verdict(scaled: type[Mistake]) -> None:
    formula = r"3 \delta^{(1)}_1 x_2"  # three times ∂C/∂W1[1,2]: a constant factor before the registry knew it
    assert verify(seed("seed001"), "W1[1,2]", formula).diagnoses == (scaled(3),)  # not "proportional" now
    v = verify(seed("seed001"), "W1[1,2]", formula)
    assert lines(v.text("en"), WHY["en"]) == ["the formula is 3 times the derivative (a test's mistake)"]
    assert lines(v.text("zh"), WHY["zh"]) == ["公式是导数的 3 倍（测试里的错误）"]
    # with the wrong sign too: named after the sign, as every registered mistake is
    assert verify(seed("seed001"), "W1[1,2]", "-" + formula).diagnoses == (Sign(), scaled(3))


def test_the_registry_is_as_it_was_after_the_test() -> None:
    assert [kind.code for kind in mistakes.ranked()] == [
        "sign",
        "penalty",
        "factor_two",
        "missing_derivative",
        "extra_derivative",
        "wrong_layer_derivative",
        "missing_sum",
        "transposed",
        "missing_transpose",
        "other_gradient",
        "proportional",
        "shared_error",
    ]
