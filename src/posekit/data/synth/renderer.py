"""Headless OpenGL rasteriser (moderngl on an EGL context, Mesa's llvmpipe on a machine without a GPU).

The camera is the exact pinhole of :class:`posekit.geometry.PinholeIntrinsics` (OpenCV axes, pixel centres at
integer coordinates): the projection matrix maps a camera-frame point ``(X, Y, Z)`` to the window position
``(fx X/Z + cx + 0.5, fy Y/Z + cy + 0.5)``, so GL's sample at the pixel centre ``(i + 0.5, j + 0.5)`` is our
pixel ``(u, v) = (i, j)``. Image rows run along GL's window y, which GL reads back from y = 0 first, so row 0
read back is the top image row (the image is upside down in GL's terms, which flips the triangles' winding:
no face is ever culled).

Depth is not read from the depth buffer (non-linear, 24-bit): a single-sample pass writes the camera-frame
``Z`` of the surface, interpolated perspective-correctly (exact for planar triangles), to a float32 target.
Colour is the texture times the vertex colour times a fixed world lighting, optionally multisampled
(``samples=4`` anti-aliases edges but costs 2-8x on Mesa's llvmpipe, more with many small triangles, so it is
off by default; the pipeline's lens blur softens the edges instead) and kept in float32 until the sensor model
quantises it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posekit.data.synth.scene import Lighting, Scene
from posekit.errors import RenderError, ShapeError
from posekit.geometry import PinholeIntrinsics

INSTALL_HINT = (
    "install a headless OpenGL stack: the Python package moderngl (pip install moderngl) and Mesa's EGL with "
    "its software rasteriser (Debian/Ubuntu: apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri libgbm1; "
    "or run scripts/install-system-deps.sh)"
)

_MAX_LIGHTS = 4
DEFAULT_SAMPLES = 1  # multisampling of the colour pass (4 = anti-aliased edges, 2-8x slower on llvmpipe)

_VERTEX_SHADER = """
#version 330
uniform mat4 cam_from_world;
uniform mat4 projection;
in vec3 in_position;
in vec3 in_color;
in vec2 in_uv;
out vec3 v_world;
out vec3 v_color;
out vec2 v_uv;
out float v_z;
void main() {
    vec4 p_cam = cam_from_world * vec4(in_position, 1.0);
    v_world = in_position;
    v_color = in_color;
    v_uv = in_uv;
    v_z = p_cam.z;
    gl_Position = projection * p_cam;
}
"""

_FRAGMENT_SHADER = """
#version 330
uniform sampler2D tex;
uniform vec3 eye;
uniform float ambient;
uniform int n_lights;
uniform vec3 light_dirs[%d];
uniform float light_gains[%d];
in vec3 v_world;
in vec3 v_color;
in vec2 v_uv;
in float v_z;
layout(location = 0) out vec4 out_color;
layout(location = 1) out float out_depth;
void main() {
    vec3 albedo = v_color * texture(tex, v_uv).rgb;
    float shade = 1.0;
    if (n_lights >= 0) {
        vec3 n = normalize(cross(dFdx(v_world), dFdy(v_world)));
        if (dot(n, eye - v_world) < 0.0) n = -n;
        shade = ambient;
        for (int i = 0; i < n_lights; ++i) shade += light_gains[i] * max(0.0, dot(n, -light_dirs[i]));
    }
    out_color = vec4(albedo * shade, 1.0);
    out_depth = v_z;
}
""" % (_MAX_LIGHTS, _MAX_LIGHTS)

_DEPTH_FRAGMENT_SHADER = """
#version 330
in float v_z;
out float out_depth;
void main() {
    out_depth = v_z;
}
"""


@dataclass
class RenderedView:
    """One rendered view, noise-free.

    Attributes:
        color: ``(H, W, 3)`` float32 RGB in [0, 1] (background where nothing was hit).
        depth: ``(H, W)`` float32 z-depth in metres, 0 where nothing was hit.
    """

    color: np.ndarray
    depth: np.ndarray


def projection_matrix(intrinsics: PinholeIntrinsics, near: float, far: float) -> np.ndarray:
    """``(4, 4)`` GL projection of OpenCV camera-frame points for ``intrinsics`` (see the module docstring)."""
    if not 0 < near < far:
        raise ShapeError(f"projection: expected 0 < near < far, got near={near}, far={far}")
    w, h = intrinsics.width, intrinsics.height
    p = np.zeros((4, 4))
    p[0, 0] = 2.0 * intrinsics.fx / w
    p[0, 2] = 2.0 * (intrinsics.cx + 0.5) / w - 1.0
    p[1, 1] = 2.0 * intrinsics.fy / h
    p[1, 2] = 2.0 * (intrinsics.cy + 0.5) / h - 1.0
    p[2, 2] = (far + near) / (far - near)
    p[2, 3] = -2.0 * far * near / (far - near)
    p[3, 2] = 1.0
    return p


def create_context():
    """A headless moderngl context (EGL first, then the platform default); RenderError says what to install."""
    try:
        import moderngl
    except ImportError as error:
        raise RenderError(f"the renderer needs moderngl ({error}); {INSTALL_HINT}") from error
    failures = []
    for backend in ("egl", None):
        try:
            kwargs = {"backend": backend} if backend else {}
            return moderngl.create_standalone_context(require=330, **kwargs)
        except Exception as error:  # moderngl/glcontext raise bare Exceptions for a missing library or display
            failures.append(f"{backend or 'default'}: {error}")
    raise RenderError(f"no headless OpenGL 3.3 context could be created ({'; '.join(failures)}); {INSTALL_HINT}")


class Renderer:
    """Renders one :class:`Scene` with one camera; upload once, then :meth:`render` any number of poses.

    Colour is rendered with ``samples``-times multisampling when ``samples > 1`` (anti-aliased edges, blended
    with the background by coverage); depth in a second, single-sample pass, so that every depth value is the
    surface's exact z-depth at the pixel centre (no averaged "flying pixels" at edges).

    Example:
        >>> with Renderer(scene, PinholeIntrinsics(160, 160, 159.5, 119.5, 320, 240)) as renderer:  # doctest: +SKIP
        ...     view = renderer.render(T_world_cam)
    """

    def __init__(self, scene: Scene, intrinsics: PinholeIntrinsics, near: float | None = None,
                 far: float | None = None, samples: int = DEFAULT_SAMPLES):
        self.scene = scene
        self.intrinsics = intrinsics
        self._ctx = create_context()
        try:
            self._setup(near if near is not None else scene.layout.near, far if far is not None else scene.layout.far,
                        samples)
        except Exception:
            self._ctx.release()
            raise

    def _setup(self, near: float, far: float, samples: int) -> None:
        import moderngl

        ctx = self._ctx
        size = (self.intrinsics.width, self.intrinsics.height)
        samples = max(1, min(int(samples), ctx.max_samples))
        projection = projection_matrix(self.intrinsics, near, far).T.astype("f4").tobytes()
        self._color_program = ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
        self._depth_program = ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_DEPTH_FRAGMENT_SHADER)
        for program in (self._color_program, self._depth_program):
            program["projection"].write(projection)
        self._set_lighting(self.scene.lighting)
        white = ctx.texture((1, 1), 3, bytes([255, 255, 255]))
        self._draws = []
        for part in self.scene.parts:
            uv = part.uv if part.uv is not None else np.zeros((len(part.positions), 2), np.float32)
            vbo = ctx.buffer(np.hstack([part.positions, part.colors, uv]).astype("f4").tobytes())
            ibo = ctx.buffer(part.faces.astype("u4").tobytes())
            color_vao = ctx.vertex_array(self._color_program, [(vbo, "3f 3f 2f", "in_position", "in_color", "in_uv")],
                                         index_buffer=ibo, index_element_size=4)
            depth_vao = ctx.vertex_array(self._depth_program, [(vbo, "3f 5x4", "in_position")], index_buffer=ibo,
                                         index_element_size=4)
            if part.texture is None:
                texture = white
            else:
                th, tw = part.texture.shape[:2]
                texture = ctx.texture((tw, th), 3, np.ascontiguousarray(part.texture).tobytes(), alignment=1)
                texture.build_mipmaps()
                texture.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
                texture.anisotropy = float(self.scene.texture_anisotropy)
            texture.repeat_x = texture.repeat_y = True
            self._draws.append((color_vao, depth_vao, texture))
        if samples > 1:  # multisampled colour, resolved; depth in its own single-sample pass
            self._color_fbo = ctx.framebuffer(
                color_attachments=[ctx.renderbuffer(size, 4, samples=samples, dtype="f4")],
                depth_attachment=ctx.depth_renderbuffer(size, samples=samples),
            )
            self._resolved_fbo = ctx.framebuffer(color_attachments=[ctx.renderbuffer(size, 4, dtype="f4")])
            self._depth_fbo = ctx.framebuffer(
                color_attachments=[ctx.renderbuffer(size, 1, dtype="f4")], depth_attachment=ctx.depth_renderbuffer(size)
            )
        else:  # one pass writes colour (attachment 0) and depth (attachment 1)
            self._color_fbo = ctx.framebuffer(
                color_attachments=[ctx.renderbuffer(size, 4, dtype="f4"), ctx.renderbuffer(size, 1, dtype="f4")],
                depth_attachment=ctx.depth_renderbuffer(size),
            )
            self._resolved_fbo = self._depth_fbo = None
        self._background = np.asarray(self.scene.background, np.float32)

    def _set_lighting(self, lighting: Lighting | None) -> None:
        program = self._color_program
        if lighting is None:
            program["n_lights"].value = -1
            return
        if len(lighting.directions) > _MAX_LIGHTS or len(lighting.directions) != len(lighting.diffuse):
            raise ShapeError(f"lighting: expected at most {_MAX_LIGHTS} directions, one gain each")
        directions = np.zeros((_MAX_LIGHTS, 3), np.float32)
        gains = np.zeros(_MAX_LIGHTS, np.float32)
        for i, (d, g) in enumerate(zip(lighting.directions, lighting.diffuse)):
            directions[i] = np.asarray(d) / np.linalg.norm(d)
            gains[i] = g
        program["n_lights"].value = len(lighting.directions)
        program["ambient"].value = float(lighting.ambient)
        program["light_dirs"].write(directions.tobytes())
        program["light_gains"].write(gains.tobytes())

    def render(self, T_world_cam: np.ndarray) -> RenderedView:
        """Render the view of a camera at ``T_world_cam`` ((4, 4), camera-to-world, OpenCV axes)."""
        import moderngl

        pose = np.asarray(T_world_cam, np.float64)
        if pose.shape != (4, 4):
            raise ShapeError(f"T_world_cam: expected shape (4, 4), got {pose.shape}")
        rotation, eye = pose[:3, :3], pose[:3, 3]
        cam_from_world = np.eye(4)
        cam_from_world[:3, :3] = rotation.T
        cam_from_world[:3, 3] = -rotation.T @ eye
        view_matrix = cam_from_world.T.astype("f4").tobytes()
        self._color_program["cam_from_world"].write(view_matrix)
        self._depth_program["cam_from_world"].write(view_matrix)
        if "eye" in self._color_program:
            self._color_program["eye"].value = tuple(float(x) for x in eye)
        ctx = self._ctx
        ctx.enable(moderngl.DEPTH_TEST)
        ctx.disable(moderngl.CULL_FACE)
        self._color_fbo.use()
        self._color_fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        for color_vao, _, texture in self._draws:
            texture.use(0)
            color_vao.render(moderngl.TRIANGLES)
        w, h = self.intrinsics.width, self.intrinsics.height
        if self._depth_fbo is not None:
            self._depth_fbo.use()
            self._depth_fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
            for _, depth_vao, _ in self._draws:
                depth_vao.render(moderngl.TRIANGLES)
            ctx.copy_framebuffer(self._resolved_fbo, self._color_fbo)
            color_source, depth_source, depth_attachment = self._resolved_fbo, self._depth_fbo, 0
        else:
            color_source, depth_source, depth_attachment = self._color_fbo, self._color_fbo, 1
        rgba = np.frombuffer(color_source.read(components=4, attachment=0, dtype="f4"), np.float32).reshape(h, w, 4)
        depth = np.frombuffer(depth_source.read(components=1, attachment=depth_attachment, dtype="f4"), np.float32)
        depth = depth.reshape(h, w).copy()
        coverage = np.clip(rgba[:, :, 3:4], 0.0, 1.0)
        color = rgba[:, :, :3] + (1.0 - coverage) * self._background[None, None, :]
        return RenderedView(np.clip(color, 0.0, 1.0).astype(np.float32), depth)

    def close(self) -> None:
        """Free the GL context and everything on it."""
        if self._ctx is not None:
            self._ctx.release()
            self._ctx = None

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
