"""Tiny random-weight diffusers video pipelines, built offline from configs and saved to a folder.

Each builder writes a complete pipeline (model_index.json, every component's config and weights,
the tokenizer) that loads through the real ``DiffusionPipeline.from_pretrained(folder,
local_files_only=True)`` path. The weights are random: the pictures are noise, but the shapes,
the loading, the seeding and the call are the real ones. Component sizes follow diffusers' own
fast tests (tests/pipelines/ltx, stable_video_diffusion, cogvideo); nothing is downloaded.

Tokenizers come from vocabularies in this file: a T5 (Unigram) tokenizer from a short film-words
list, and a CLIP BPE tokenizer from the vocabulary open_clip's wheel ships.

Used by tests/test_diffusion.py and bench/diffusion_overhead.py (which can also scale them up).
"""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

#: Words a shot prompt is made of; anything else becomes <unk>, which a random encoder does not mind.
FILM_WORDS = (
    "a an the and of in on at with to from into is are his her their "
    "man woman girl boy child old young dog horse bird rabbit squirrel butterfly tree trees field meadow "
    "road street house door window room forest river hill sky sun moon rain snow light dark shadow "
    "night dusk dawn morning day evening walks runs looks turns sits stands waits falls chases smiles "
    "shot wide close-up medium long extreme eye-level high-angle low-angle overhead dutch-angle "
    "static handheld camera panning tilting left right up down push-in pull-out moving "
    "animation film silent black white colour color pastoral quiet warm cold soft"
).split()


def t5_tokenizer(model_max_length: int = 128):
    """A T5 (SentencePiece Unigram) tokenizer over :data:`FILM_WORDS`, built in code."""
    from transformers import T5Tokenizer

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [(f"\u2581{w}", -float(i + 1)) for i, w in enumerate(FILM_WORDS)]
    tokenizer = T5Tokenizer(vocab=vocab, extra_ids=0)
    tokenizer.model_max_length = model_max_length
    return tokenizer


def clip_tokenizer(merges_limit: int = 49152 - 256 - 2):
    """A CLIP BPE tokenizer from open_clip's shipped vocabulary (``bpe_simple_vocab_16e6.txt.gz``), 77 tokens long.

    CLIP's vocabulary is the 256 byte characters, the same with the end-of-word mark, one token per
    merge, and the two special tokens (49408 in all, as open_clip builds it).
    """
    import open_clip
    from transformers import CLIPTokenizer

    bpe = Path(open_clip.__file__).parent / "bpe_simple_vocab_16e6.txt.gz"
    merges = gzip.open(bpe).read().decode("utf-8").split("\n")[1 : merges_limit + 1]
    chars = list(_bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["".join(m.split()) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    with tempfile.TemporaryDirectory() as tmp:
        vocab, merges_txt = Path(tmp) / "vocab.json", Path(tmp) / "merges.txt"
        vocab.write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
        merges_txt.write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
        tokenizer = CLIPTokenizer(str(vocab), str(merges_txt), pad_token="<|endoftext|>")
    tokenizer.model_max_length = 77
    return tokenizer


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible map from bytes to printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))


def _t5_encoder(vocab_size: int, d_model: int, layers: int = 2):
    from transformers import T5Config, T5EncoderModel

    config = T5Config(
        vocab_size=vocab_size, d_model=d_model, d_kv=8, d_ff=37, num_layers=layers, num_heads=4, relative_attention_num_buckets=8
    )
    return T5EncoderModel(config)


def _ltx_components(full_size: bool = False) -> dict:
    """LTX-Video components: diffusers' fast-test size, or (``full_size``) the 2B model's own transformer and VAE."""
    import torch
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXVideoTransformer3DModel

    tokenizer = t5_tokenizer()
    torch.manual_seed(0)
    if full_size:
        # The library defaults are LTX-Video 2B (28 layers, 2048 wide; VAE 32x spatial, 8x temporal). The
        # T5-XXL text encoder is stood in for by one 4096-wide layer: prompt encoding is a sliver of the time.
        transformer, vae = LTXVideoTransformer3DModel(), AutoencoderKLLTXVideo()
        return {
            "transformer": transformer,
            "vae": vae,
            "scheduler": FlowMatchEulerDiscreteScheduler(),
            "text_encoder": _t5_encoder(len(tokenizer), 4096, layers=1),
            "tokenizer": tokenizer,
        }
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    )
    torch.manual_seed(0)
    # Spatial and temporal compression 4 (the real model: 32 and 8), so 64x64 and 8k+1 frames decode exactly.
    vae = AutoencoderKLLTXVideo(
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        decoder_inject_noise=(False,) * 5,
        upsample_residual=(False,) * 4,
        upsample_factor=(1,) * 4,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    torch.manual_seed(0)
    return {
        "transformer": transformer,
        "vae": vae,
        "scheduler": FlowMatchEulerDiscreteScheduler(),
        "text_encoder": _t5_encoder(len(tokenizer), 32),
        "tokenizer": tokenizer,
    }


def build_tiny_ltx(folder: str | Path) -> Path:
    """A tiny random LTX-Video text-to-video pipeline (``LTXPipeline``) saved to ``folder``."""
    from diffusers import LTXPipeline

    folder = Path(folder)
    LTXPipeline(**_ltx_components()).save_pretrained(folder)
    return folder


def build_tiny_ltx_i2v(folder: str | Path) -> Path:
    """A tiny random LTX-Video image-to-video pipeline (``LTXImageToVideoPipeline``) saved to ``folder``."""
    from diffusers import LTXImageToVideoPipeline

    folder = Path(folder)
    LTXImageToVideoPipeline(**_ltx_components()).save_pretrained(folder)
    return folder


def build_random_ltx_2b(folder: str | Path, device: str = "cpu", dtype: str = "bfloat16") -> Path:
    """LTX-Video 2B's transformer and VAE with random weights (for timing at a realistic size; about 4 GB in bfloat16).

    Built on ``device`` (initialising two billion parameters on a GPU takes seconds, on a CPU minutes).
    """
    import torch
    from diffusers import LTXPipeline

    folder = Path(folder)
    with torch.device(device):
        pipe = LTXPipeline(**_ltx_components(full_size=True))
    pipe.to(dtype=getattr(torch, dtype))
    pipe.save_pretrained(folder)
    return folder


def build_tiny_svd(folder: str | Path) -> Path:
    """A tiny random Stable Video Diffusion image-to-video pipeline saved to ``folder`` (slower on CPU than LTX)."""
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=8,
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32,
        num_attention_heads=8,
        projection_class_embeddings_input_dim=96,
        addition_time_embed_dim=32,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        latent_channels=4,
    )
    torch.manual_seed(0)
    # SVD resizes the conditioning image to 224x224 for its CLIP image encoder whatever the video size.
    image_encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            projection_dim=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=224,
            intermediate_size=37,
            patch_size=32,
        )
    )
    pipe = StableVideoDiffusionPipeline(
        unet=unet, image_encoder=image_encoder, scheduler=scheduler, vae=vae, feature_extractor=CLIPImageProcessor(crop_size=224, size=224)
    )
    folder = Path(folder)
    pipe.save_pretrained(folder)
    return folder


def build_tiny_cogvideox(folder: str | Path) -> Path:
    """A tiny random CogVideoX text-to-video pipeline (4k+1 frames, sizes in multiples of 16) saved to ``folder``."""
    import torch
    from diffusers import AutoencoderKLCogVideoX, CogVideoXPipeline, CogVideoXTransformer3DModel, DDIMScheduler

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4,
        attention_head_dim=8,
        in_channels=4,
        out_channels=4,
        time_embed_dim=2,
        text_embed_dim=32,
        num_layers=1,
        sample_width=2,
        sample_height=2,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=226,  # the pipeline's default prompt length, so the call needs no extra argument
    )
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        in_channels=3,
        out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    )
    tokenizer = t5_tokenizer(226)
    torch.manual_seed(0)
    pipe = CogVideoXPipeline(
        transformer=transformer, vae=vae, scheduler=DDIMScheduler(), text_encoder=_t5_encoder(len(tokenizer), 32), tokenizer=tokenizer
    )
    folder = Path(folder)
    pipe.save_pretrained(folder)
    return folder


def build_tiny_wan(folder: str | Path) -> Path:
    """A tiny random Wan 2.1 text-to-video pipeline (4k+1 frames) saved to ``folder``.

    Loading it back needs the ``accelerate`` package (diffusers keeps some Wan modules in float32
    and does that only through accelerate's loader); :func:`tiny_wan` gives the pipeline in memory.
    """
    folder = Path(folder)
    tiny_wan().save_pretrained(folder)
    return folder


def tiny_wan():
    """A tiny random Wan 2.1 text-to-video pipeline, in memory."""
    import torch
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True])
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=32,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    tokenizer = t5_tokenizer(512)
    torch.manual_seed(0)
    return WanPipeline(
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        text_encoder=_t5_encoder(len(tokenizer), 32),
        tokenizer=tokenizer,
        transformer_2=None,
    )


def build_tiny_animatediff(folder: str | Path) -> Path:
    """A tiny random AnimateDiff pipeline (a UNet with a motion adapter; CLIP text encoder and tokenizer) saved to ``folder``."""
    import torch
    from diffusers import AnimateDiffPipeline, AutoencoderKL, DDIMScheduler, MotionAdapter, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    folder = Path(folder)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=2,
    )
    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
    )
    tokenizer = clip_tokenizer()
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=len(tokenizer),
        )
    )
    torch.manual_seed(0)
    motion_adapter = MotionAdapter(
        block_out_channels=(32, 64), motion_layers_per_block=1, motion_norm_num_groups=2, motion_num_attention_heads=4
    )
    pipe = AnimateDiffPipeline(
        unet=unet,
        scheduler=DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="linear", clip_sample=False),
        vae=vae,
        motion_adapter=motion_adapter,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        feature_extractor=None,
        image_encoder=None,
    )
    pipe.save_pretrained(folder)
    return folder
