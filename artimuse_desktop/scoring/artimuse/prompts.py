"""The prompts ArtiMuse was trained with, kept verbatim: any change here changes every score.

The holistic score always uses the authors' score prompt unchanged (a triple-quoted string with its 8-space
indentation and trailing spaces); the conversation template is InternVL's ``internvl2_5`` with its default
system message. Bump ``PROMPT_VERSION`` whenever anything in this module changes what reaches the model.
"""

from __future__ import annotations

from artimuse_desktop.vocabulary import ATTRIBUTES

PROMPT_VERSION = 1

TEMPLATE_NAME = "internvl2_5"

SYSTEM_MESSAGE = (
    "你是书生·万象，英文名是InternVL，是由上海人工智能实验室、清华大学及多家合作单位联合开发的多模态大语言模型。"
)

IMAGE_PLACEHOLDER = "<image>"
IMG_START_TOKEN = "<img>"
IMG_END_TOKEN = "</img>"
IMG_CONTEXT_TOKEN = "<IMG_CONTEXT>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
END_OF_TEXT = "<|endoftext|>"

# What the authors' slow tokenizer drops from generated text with ``skip_special_tokens=True``: its special tokens
# (named in special_tokens_map.json; these three for ArtiMuse's Qwen2 tokenizer). Every other added token
# (``<quad>``, ``<box>``...) stays in the text. Conversion records the checkpoint's own list; this is the fallback.
DROPPED_SPECIAL_TOKENS: tuple[str, ...] = (END_OF_TEXT, IM_START, IM_END)

# The authors' score text, verbatim: it starts with a newline, every line is indented by 8 spaces, three lines
# end with a space, and it ends with a newline and 8 spaces. Do not strip or dedent.
SCORE_TEXT = (
    "\n"
    "        Rate the aesthetics score of the image in 0-100. \n"
    "        In the output format, numbers are replaced by 2 corresponding letters, \n"
    "        and the mapping relationship is: \n"
    "        score 0 to 25: 0-aa, 1-ab, 2-ac, 3-ad, ... , 25-az,\n"
    "        score 26 to 50: 26-ca, 27-cb, 28-cc, 29-cd, ..., 50-cy,\n"
    "        score 51 to 75: 51-da, 52-db, 53-dc, 54-dd, ..., 75-dy,\n"
    "        score 76 to 100: 76-ea, 77-eb, 78-ec, 79-ed, ..., 100-ey.\n"
    "\n"
    "        The answer only outputs 2 corresponding letters.\n"
    "        "
)

ATTRIBUTE_TEMPLATE = "Please evaluate the aesthetic quality of this image from the aspect of {aspect}."

# EXPERIMENTAL, not from the paper: the score text with the aspect named in its first line, read through the
# same 101-token head. The model was never trained to score single attributes, so these numbers are labelled
# experimental everywhere they are shown.
EXPERIMENTAL_ATTRIBUTE_SCORE_TEXT = SCORE_TEXT.replace(
    "Rate the aesthetics score of the image in 0-100. ",
    "Rate the aesthetics score of the image from the aspect of {aspect} in 0-100. ",
)

ASPECTS: tuple[str, ...] = ATTRIBUTES


def _letters(first: str, count: int) -> list[str]:
    return [first + chr(ord("a") + i) for i in range(count)]


# Score order 0..100: aa..az (0-25), ca..cy (26-50), da..dy (51-75), ea..ey (76-100). Each must be one token.
AESTHETIC_TOKENS: tuple[str, ...] = tuple(_letters("a", 26) + _letters("c", 25) + _letters("d", 25) + _letters("e", 25))


def image_tokens(num_image_token: int, num_tiles: int = 1) -> str:
    """What ``<image>`` expands to: the features of each tile replace one ``<IMG_CONTEXT>`` embedding each."""
    return IMG_START_TOKEN + IMG_CONTEXT_TOKEN * (num_image_token * num_tiles) + IMG_END_TOKEN


def question(text: str) -> str:
    """The user turn of a one-image question: image first, then the text, as in the authors' ``chat()``."""
    return IMAGE_PLACEHOLDER + "\n" + text


def build_query(text: str, num_image_token: int, system_message: str = SYSTEM_MESSAGE) -> str:
    """The full ``internvl2_5`` prompt string handed to the tokenizer (no BOS, system turn always present)."""
    prompt = (
        f"{IM_START}system\n{system_message}{IM_END}\n{IM_START}user\n{question(text)}{IM_END}\n{IM_START}assistant\n"
    )
    return prompt.replace(IMAGE_PLACEHOLDER, image_tokens(num_image_token), 1)


def score_query(num_image_token: int, system_message: str = SYSTEM_MESSAGE) -> str:
    return build_query(SCORE_TEXT, num_image_token, system_message)


def attribute_text(aspect: str) -> str:
    return ATTRIBUTE_TEMPLATE.format(aspect=aspect)


def attribute_query(aspect: str, num_image_token: int, system_message: str = SYSTEM_MESSAGE) -> str:
    return build_query(attribute_text(aspect), num_image_token, system_message)


def experimental_attribute_score_query(aspect: str, num_image_token: int, system_message: str = SYSTEM_MESSAGE) -> str:
    return build_query(EXPERIMENTAL_ATTRIBUTE_SCORE_TEXT.format(aspect=aspect), num_image_token, system_message)


def prompt_fingerprint() -> str:
    """A short hash of everything above that reaches the model: part of the backend's version string."""
    import hashlib

    parts = [
        TEMPLATE_NAME,
        SYSTEM_MESSAGE,
        SCORE_TEXT,
        ATTRIBUTE_TEMPLATE,
        EXPERIMENTAL_ATTRIBUTE_SCORE_TEXT,
        *ASPECTS,
        *AESTHETIC_TOKENS,
    ]
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:8]
