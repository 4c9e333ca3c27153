/** GET /v1/whoami: the caller as the API sees it (the console shows it after signing in). */
import { Controller, Get, Req } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Guarded, type AuthenticatedRequest } from './auth.guard.js';

@ApiTags('auth')
@Controller('v1')
@Guarded()
export class AuthController {
  @Get('whoami')
  @ApiOperation({ summary: 'The caller: name, role, and how it was authenticated' })
  @ApiResponse({
    status: 200,
    description: 'the caller',
    schema: {
      type: 'object',
      required: ['name', 'role', 'via'],
      properties: {
        name: { type: 'string', description: "the token's name or the JWT's subject; anonymous without authentication" },
        role: { type: 'string', enum: ['viewer', 'operator', 'admin'] },
        via: { type: 'string', enum: ['token', 'oidc', 'none'] },
      },
    },
  })
  whoami(@Req() req: AuthenticatedRequest) {
    return req.principal;
  }
}
